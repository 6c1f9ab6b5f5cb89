// Snapshots on a thread of their own. A snapshot at 10,000 cgroups (the
// kernel walk, ids to paths, the records) takes milliseconds; on the loop
// thread it sat between a kernel signal and the limit write of any rescue
// that arrived meanwhile (p99 13 ms in bench_realloc's 10,000-cgroup case).
// The worker takes one every interval and signals the loop through an
// eventfd; the loop, which runs at a higher priority (util/sched.hpp), does
// only the per-child work with it, and a kernel signal preempts the walk.
//
// The worker owns the Sampler once started: nothing else calls it until
// stop() has joined the thread. Only the newest snapshot waits for the
// loop; one the loop had no time to take is replaced. Start
// it after the guardian's fork and after the stop signals are blocked, so
// the thread inherits the blocked mask.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policy/cpu_budget.hpp"
#include "sampler/sampler.hpp"
#include "util/fd.hpp"
#include "util/noncopyable.hpp"
#include "util/result.hpp"
#include "util/worker.hpp"

namespace ow::sampler {

struct TakenSnapshot {
  std::shared_ptr<const sampler::Snapshot> snap;  // null when the snapshot failed
  std::string error;                              // why, when it failed
  int64_t started_mono_ns = 0;                    // when the walk began (CLOCK_MONOTONIC)
  int64_t took_ns = 0;                            // how long it took
  // path -> index into snap->samples, built on the worker so the loop looks
  // up its managed children without a pass over every sample. The keys view
  // the paths in snap (no copy of 10,000 strings a second): keep both together.
  std::shared_ptr<const std::unordered_map<std::string_view, size_t>> index;
  int64_t interval_ns = 0;  // the effective interval it was taken at (0: not by the worker)
  double cpu_used = -1;     // the agent's CPU over the last budget period, of one core (-1: none yet)
};

// The snapshot of s now, with its index (also what the worker does each
// interval); weight: the base-interval samples it stands for (Snapshot::weight).
TakenSnapshot take_snapshot(sampler::Sampler& s, uint64_t weight = 1);

class SnapshotWorker : NonCopyable {
 public:
  // after: called on the worker's thread with each snapshot once the loop has
  // been told of it, for work that must stay off the loop (the agent names
  // Kubernetes cgroups for its audit lines there, k8s/name_cache.hpp).
  using After = std::function<void(const sampler::Snapshot&)>;
  // budget: the agent's CPU budget (budget.budget <= 0: off, a fixed
  // interval); budget.base_ns is the base interval. Once per
  // policy::adjust_period the worker measures the process's CPU and sets the
  // next interval (policy::next_interval), with one log line per change.
  static Result<std::unique_ptr<SnapshotWorker>> start(sampler::Sampler& s, policy::CpuBudget budget,
                                                       After after = {});
  ~SnapshotWorker();  // stop()

  int fd() const { return efd_.get(); }  // readable when a snapshot waits
  // From the loop thread when fd() is readable: the newest snapshot, if any.
  std::optional<TakenSnapshot> take();
  void stop();

 private:
  SnapshotWorker(sampler::Sampler& s, policy::CpuBudget budget, UniqueFd efd, After after);
  void run();
  sampler::Sampler& s_;
  policy::CpuBudget budget_;
  UniqueFd efd_;
  After after_;
  std::optional<TakenSnapshot> ready_;  // under worker_.lock()
  Worker worker_;                       // last: stopped before the rest goes
};

}  // namespace ow::sampler
