#include "policy/rescue.hpp"

#include <algorithm>

#include "policy/pages.hpp"

namespace ow::policy {

std::optional<uint64_t> rescue_high_bytes(uint64_t max_bytes, uint64_t usage_bytes, const GuardParams& g) {
  if (max_bytes == kUnlimited) return std::nullopt;
  uint64_t guard = std::max(g.guard_bytes, fraction_of(max_bytes, g.guard_fraction));
  uint64_t high = page_down(sub_sat(max_bytes, guard), g.page_bytes);
  uint64_t lowest = page_up(add_sat(usage_bytes, g.min_gap_bytes), g.page_bytes);
  high = std::max(high, lowest);
  if (high >= max_bytes) return std::nullopt;
  return high;
}

}  // namespace ow::policy
