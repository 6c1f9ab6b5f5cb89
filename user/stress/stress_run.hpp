// stress-memory's engine: N workers each hold target/N and keep freeing and
// re-charging part of it, so the cgroup stays at the target (and at its limit
// when the target is above it) for the whole duration. Killed workers are
// counted and restarted. The caller owns the cgroup.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "cgroup/hierarchy.hpp"
#include "stress/plan.hpp"
#include "stress/strategy.hpp"
#include "stress/stress_tally.hpp"

namespace ow::stress {

// step_bytes: the growth step, and the chunk recycled each cycle.
struct StressConfig : Charging {
  uint64_t target_bytes = 0;  // all workers together
  unsigned workers = 2;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::chrono::nanoseconds interval = std::chrono::seconds(1);  // one sample per interval
  std::chrono::nanoseconds cycle_period = std::chrono::milliseconds(100);  // each worker recycles a chunk this often
  std::chrono::nanoseconds restart_delay = std::chrono::milliseconds(200);  // a killed worker rests this long
  bool fresh_cgroup = true;  // see LimitTestConfig::fresh_cgroup
};

struct StressSample {
  double elapsed_s = 0;
  cg::MemUsage usage;
  uint64_t held_bytes = 0;  // what the live workers report holding
  unsigned workers_alive = 0;
  uint64_t peak_bytes = 0;   // so far
  uint64_t max_events = 0;   // since the start: v2 memory.events max, v1 failcnt
  uint64_t oom_kills = 0;    // since the start: the cgroup's oom_kill counter
  const StressTally* tally = nullptr;
};

struct StressResult {
  Strategy strategy = Strategy::Anon;
  uint64_t limit_bytes = 0;
  uint64_t target_bytes = 0;
  unsigned workers = 0;
  double duration_s = 0;
  uint64_t peak_bytes = 0;
  uint64_t max_events = 0;
  uint64_t oom_kills = 0;
  uint64_t worker_kills = 0;
  uint64_t worker_failures = 0;
  uint64_t restarts = 0;
  uint64_t samples = 0;
  bool interrupted = false;
  std::string error;  // why the run gave up early, "" when it did not
};

using StressSampleFn = std::function<void(const StressSample&)>;

// Errors: setup only (cgroup unreadable, fork). Ends at cfg.duration or when
// `stop` turns true (interrupted); every worker is killed and reaped on return.
Result<StressResult> run_stress(const cg::Hierarchy& h, const std::string& rel, const StressConfig& cfg,
                                const StressSampleFn& on_sample, const std::atomic<bool>& stop);

}  // namespace ow::stress
