// One memory cgroup's figures at one instant: what the sampler produces (from
// the BPF cgroup iterator, or from cgroupfs files as the fallback) and what
// stats, the history store and the policy consume.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ow::sampler {

struct Sample {
  int64_t ts_ns = 0;        // CLOCK_REALTIME, ns
  uint64_t cgroup_id = 0;   // inode of the cgroup directory
  std::string cgroup;       // path relative to the memory hierarchy root ("/a/b")
  uint64_t usage_bytes = 0;
  uint64_t limit_bytes = 0; // kUnlimited (UINT64_MAX) when none
  uint64_t peak_bytes = 0;  // kernel watermark since creation or last reset; 0 if unknown
  uint64_t high_bytes = 0;  // v2 memory.high; kUnlimited when none or v1
  uint64_t swap_bytes = 0;
  uint64_t failcnt = 0;     // v1 failcnt; v2 memory.events "max"
  uint64_t ev_low = 0, ev_high = 0, ev_max = 0, ev_oom = 0, ev_oom_kill = 0;
  // Hierarchical inactive file pages: v1 memory.stat total_inactive_file, v2
  // inactive_file (the BPF source reads the kernel's counter, which may lag
  // memory.stat by a bounded amount: BpfSource::lag_bound_bytes()).
  uint64_t inactive_file_bytes = 0;
  // cAdvisor's working set: usage_bytes - inactive_file_bytes, floored at 0.
  uint64_t working_set_bytes = 0;
};

// All cgroups at one instant.
struct Snapshot {
  int64_t ts_ns = 0;
  std::vector<Sample> samples;
  // How many base-interval samples each of these stands for: the agent's
  // interval when its CPU budget stretched it, over the base (--interval).
  // The history counts each sample this many times, so its statistics stay
  // time-weighted when the interval changes (policy/cpu_budget.hpp).
  uint64_t weight = 1;
};

}  // namespace ow::sampler
