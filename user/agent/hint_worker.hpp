// The agent's GOMEMLIMIT hints on a thread of their own. A hint tick that
// walks cgroupfs costs about 40 ms at 1,000 cgroups (2.6 ms from the loop's
// snapshot, which the loop hands over after each one); on the loop thread
// either would sit between a kernel signal and the limit write of a rescue. Here the loop only enqueues: after it changed a
// limit it calls refresh(), which returns at once, and the worker recomputes
// that cgroup's hint (then ticks every second, as the loop's timer did).
//
// The worker owns the HintService: once started, nothing else touches it
// until stop() has joined the thread. A donor's hint therefore drops right
// after its limit (within milliseconds) instead of just before it: Go
// programs poll the hint every 10 s (tools/go gomemlimit.Follow), so the
// order of the two was never visible to them.
//
// Start the worker only after the guardian is forked (fork and threads do
// not mix). Exceptions in the worker are logged; it goes on.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/hints.hpp"

namespace ow::agent {

class HintWorker {
 public:
  // on_round (optional): called on the worker's thread after each round with
  // the service, e.g. to hand /metrics a copy of what it published.
  explicit HintWorker(std::unique_ptr<HintService> svc, std::function<void(const HintService&)> on_round = {});
  ~HintWorker();  // stop() if not done yet
  HintWorker(const HintWorker&) = delete;
  HintWorker& operator=(const HintWorker&) = delete;

  // From the loop thread, never blocking on the service: `cgroup`'s limit
  // changed; its hint is recomputed on the worker.
  void refresh(const std::string& cgroup);
  // From the loop thread after each snapshot: the next tick works from it
  // (HintService::tick with a snapshot) instead of walking the files.
  void snapshot(std::shared_ptr<const sampler::Snapshot> snap);
  // Joins the worker, then withdraws every hint (HintService::shutdown).
  Status stop();

 private:
  void run();
  std::unique_ptr<HintService> svc_;
  std::function<void(const HintService&)> on_round_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> jobs_;  // cgroups to refresh, in order
  std::shared_ptr<const sampler::Snapshot> snap_;  // the loop's latest
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread th_;  // last: started once the rest is built
};

}  // namespace ow::agent
