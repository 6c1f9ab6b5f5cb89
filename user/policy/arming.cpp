#include "policy/arming.hpp"

#include "util/units.hpp"

namespace ow::policy {

V1Arm v1_arm_step(bool is_root, bool reads_disabled, bool journalled) {
  if (!reads_disabled) return V1Arm::arm;
  if (is_root && !journalled) return V1Arm::leave;
  return is_root ? V1Arm::arm : V1Arm::watch_only;
}

bool guard_is_ours(uint64_t ours_bytes, uint64_t high_bytes) {
  return ours_bytes == 0 ? high_bytes == kUnlimited : high_bytes == ours_bytes;
}

std::optional<uint64_t> guard_write(uint64_t high_bytes, uint64_t max_bytes, uint64_t usage_bytes,
                                    const GuardParams& g) {
  if (max_bytes == kUnlimited && high_bytes == kUnlimited) return std::nullopt;
  uint64_t want = rescue_high_bytes(max_bytes, usage_bytes, g).value_or(kUnlimited);
  if (want == high_bytes) return std::nullopt;
  return want;
}

}  // namespace ow::policy
