// Pure bookkeeping of a stress run's workers: what ended how, and whether to
// start the worker again. Killed workers are the expected outcome of pressure
// above the limit and are always restarted; workers that fail on their own
// (mmap refused, disk full) are retried a few times, then the run gives up.
#pragma once
#include <cstdint>

#include "cgroup/scoped.hpp"

namespace ow::stress {

class StressTally {
 public:
  static constexpr unsigned kMaxConsecutiveFailures = 3;

  enum class Next { Restart, GiveUp };
  // A worker ended without being asked to.
  Next on_worker_end(const cg::ExitStatus& st);
  // A worker charged its whole share: it works, so earlier failures were transient.
  void on_worker_grown() { consecutive_failures_ = 0; }
  void on_restart() { ++restarts_; }

  uint64_t worker_kills() const { return kills_; }     // ended by a signal (SIGKILL: the OOM killer)
  uint64_t worker_failures() const { return failures_; }  // exited non-zero on their own
  uint64_t restarts() const { return restarts_; }

 private:
  uint64_t kills_ = 0, failures_ = 0, restarts_ = 0;
  unsigned consecutive_failures_ = 0;
};

}  // namespace ow::stress
