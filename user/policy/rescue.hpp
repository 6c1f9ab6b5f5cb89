// The cgroup v2 rescue guard: memory.high set a little below memory.max so the
// kernel throttles and reclaims a growing cgroup (memory.events "high" fires,
// oomwatch reacts) before it reaches max and the OOM killer runs. Measured in
// the VM tier: an 8 MiB guard kept a workload growing 4 MiB / 50 ms alive
// under a 10 ms poller. Pure.
#pragma once
#include <cstdint>
#include <optional>

namespace ow::policy {

struct GuardParams {
  // guard = max(guard_bytes, guard_fraction * max): 8 MiB is what was
  // measured; the fraction widens it on big cgroups whose bursts are bigger.
  uint64_t guard_bytes = 8ull << 20;
  double guard_fraction = 0.02;
  // high never goes below usage + this: a high under current usage would
  // throttle the cgroup hard right now, for no incident at all.
  uint64_t min_gap_bytes = 1ull << 20;
  uint64_t page_bytes = 4096;
};

// memory.high for a cgroup with this memory.max and current usage:
// page_down(max - guard), raised to page_up(usage + min_gap) if below it.
// nullopt when no guard fits strictly below max (max unlimited, or the cgroup
// already within min_gap of it): leave memory.high at "max" then; the agent
// calls again after the next raise.
std::optional<uint64_t> rescue_high_bytes(uint64_t max_bytes, uint64_t usage_bytes,
                                          const GuardParams& g = {});

}  // namespace ow::policy
