#include "policy/pressure.hpp"

#include <algorithm>

#include "policy/pages.hpp"

namespace ow::policy {

uint64_t guard_distance(uint64_t limit_bytes, const GuardParams& g) {
  if (limit_bytes == kUnlimited) return kUnlimited;
  return std::max<uint64_t>(g.guard_bytes, static_cast<uint64_t>(g.guard_fraction * static_cast<double>(limit_bytes)));
}

bool limit_signal(const ChildLook& l, const GuardParams& g) {
  if (!l.seen_before || l.limit_bytes == kUnlimited) return false;
  if (add_sat(l.usage_bytes, guard_distance(l.limit_bytes, g)) < l.limit_bytes) return false;
  return l.limit_hits > l.prev_limit_hits || (l.guarded && l.high_events > l.prev_high_events);
}

bool short_of_memory(uint64_t usage_bytes, uint64_t file_bytes, uint64_t limit_bytes, const GuardParams& g) {
  if (limit_bytes == kUnlimited) return false;
  return add_sat(sub_sat(usage_bytes, file_bytes), guard_distance(limit_bytes, g)) >= limit_bytes;
}

}  // namespace ow::policy
