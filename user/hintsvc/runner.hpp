// What the daemon holds of the GOMEMLIMIT hints: the hint service
// (service.hpp) on a thread of its own. A hint tick that walks cgroupfs costs
// about 40 ms at 1,000 cgroups (2.6 ms from the loop's snapshot, which the
// loop hands over after each one); on the loop thread either would sit
// between a kernel signal and the limit write of a rescue. Here the loop only
// enqueues: after it changed a limit it calls refresh(), which returns at
// once, and the thread recomputes that cgroup's hint (then ticks every
// second).
//
// The thread owns the service: once started, nothing else touches it until
// stop() has joined the thread. A donor's hint therefore drops right after
// its limit (within milliseconds) instead of just before it: Go programs
// poll the hint every 10 s (tools/go gomemlimit.Follow), so the order of the
// two was never visible to them.
//
// Start it only after the guardian is forked (fork and threads do not mix).
// Exceptions on the thread are logged; it goes on.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "hintsvc/service.hpp"
#include "util/noncopyable.hpp"
#include "util/worker.hpp"

namespace ow::hintsvc {

class HintRunner : NonCopyable {
 public:
  // Called on the thread after each round with the service, e.g. to hand
  // /metrics a copy of what it published.
  using RoundSink = std::function<void(const HintService&)>;

  // Opens the service (HintService::open); nothing is published before start().
  static Result<std::unique_ptr<HintRunner>> open(const cg::Hierarchy& h, HintOptions o);
  ~HintRunner();  // stop() if not done yet

  // The first round at once (on the caller's thread), then the thread.
  void start(RoundSink on_round = {});
  // From the loop thread, never blocking on the service: `cgroup`'s limit
  // changed; its hint is recomputed on the thread.
  void refresh(const std::string& cgroup);
  // From the loop thread after each snapshot: the next tick works from it
  // (HintService::tick with a snapshot) instead of walking the files.
  void snapshot(std::shared_ptr<const sampler::Snapshot> snap);
  // Joins the thread, then withdraws every hint (HintService::shutdown).
  // Before start(): nothing was published, nothing to do.
  Status stop();
  // The hints stop() withdrew (0 before it ran).
  size_t withdrawn() const { return withdrawn_; }

 private:
  explicit HintRunner(std::unique_ptr<HintService> svc);
  void run();
  std::unique_ptr<HintService> svc_;
  RoundSink on_round_;
  std::deque<std::string> jobs_;  // cgroups to refresh, in order (under worker_.lock())
  std::shared_ptr<const sampler::Snapshot> snap_;  // the loop's latest (under worker_.lock())
  bool started_ = false, stopped_ = false;  // the owner's thread only
  size_t withdrawn_ = 0;
  Worker worker_;  // last: stopped before the rest goes
};

}  // namespace ow::hintsvc
