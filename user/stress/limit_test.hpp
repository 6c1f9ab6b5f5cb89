// test-memory's engine: one worker allocates progressively inside a cgroup
// while the controller watches the cgroup, then reports what happened. Takes
// the cgroup as given (the caller creates or chooses it), so tests and
// benchmarks drive it the same way the CLI does.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "cgroup/hierarchy.hpp"
#include "stress/plan.hpp"
#include "stress/strategy.hpp"

namespace ow::stress {

struct LimitTestConfig : Charging {
  uint64_t alloc_bytes = 0;
  std::chrono::nanoseconds step_delay{0};
  std::chrono::nanoseconds hold{0};  // how long to hold once everything is charged
  std::chrono::nanoseconds interval = std::chrono::milliseconds(250);  // progress at most this often
  // The cgroup holds nothing but this run, so its watermark is this run's
  // peak; otherwise the peak is the highest usage sampled during the run.
  bool fresh_cgroup = true;
};

struct LimitTestProgress {
  double elapsed_s = 0;
  pid_t worker_pid = 0;
  const char* phase = "";  // "starting", "allocating", "holding"
  uint64_t allocated_bytes = 0;  // charged by the worker so far (its own count)
  cg::MemUsage usage;            // the cgroup's own figures
};

struct LimitTestResult {
  Strategy strategy = Strategy::Anon;
  uint64_t limit_bytes = 0;      // kUnlimited when none
  uint64_t alloc_bytes = 0;      // asked for
  uint64_t allocated_bytes = 0;  // charged before the worker ended
  uint64_t peak_bytes = 0;
  bool peak_from_watermark = false;
  bool oom_killed = false;
  uint64_t oom_kills = 0;
  int exit_code = 0;  // the worker's; 137 when killed
  double duration_s = 0;
  bool interrupted = false;
  std::string error;  // the worker's failure (not an OOM kill), "" when none
};

using LimitTestProgressFn = std::function<void(const LimitTestProgress&)>;

// Errors: setup only (cgroup unreadable, fork). What the worker met is in the result.
// `stop` (Ctrl-C) kills the worker and returns an interrupted result.
Result<LimitTestResult> run_limit_test(const cg::Hierarchy& h, const std::string& rel, const LimitTestConfig& cfg,
                                       const LimitTestProgressFn& on_progress, const std::atomic<bool>& stop);

}  // namespace ow::stress
