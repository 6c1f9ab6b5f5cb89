// When a managed child is pressed against its limit: the rule the agent
// applies to each snapshot row and to each memory.events wakeup before it
// opens an incident. Pure: the agent reads the figures, this decides.
#pragma once
#include <cstdint>

#include "policy/rescue.hpp"

namespace ow::policy {

// How close to its limit a child counts as at it:
// max(guard_bytes, guard_fraction * limit), the v2 guard's own distance.
uint64_t guard_distance(uint64_t limit_bytes, const GuardParams& g = {});

// One look at a child, with what the previous look saw.
struct ChildLook {
  bool seen_before = false;  // prev_* are from an earlier look (the first look only sets them)
  uint64_t usage_bytes = 0;
  uint64_t limit_bytes = 0;  // kUnlimited: none
  // The kernel's count of allocations that hit the limit (v1 failcnt, v2
  // memory.events max) and of throttles at memory.high (v2 "high").
  uint64_t limit_hits = 0, prev_limit_hits = 0;
  uint64_t high_events = 0, prev_high_events = 0;
  bool guarded = false;  // oomwatch's memory.high guard is set
};

// A snapshot's sign of pressure: within the guard distance of a set limit,
// and the kernel hit the limit (or throttled at our guard) since the last
// look. A child that only sits near its limit, with nothing hitting it, is
// not pressed. The agent confirms a sign with short_of_memory.
bool limit_signal(const ChildLook& l, const GuardParams& g = {});

// Whether memory the kernel cannot simply reclaim (usage less the page
// cache, file_bytes) is within the guard distance of limit: a cgroup full of
// clean cache at its limit reclaims it and needs nothing.
bool short_of_memory(uint64_t usage_bytes, uint64_t file_bytes, uint64_t limit_bytes, const GuardParams& g = {});

}  // namespace ow::policy
