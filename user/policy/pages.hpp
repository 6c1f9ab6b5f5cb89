// Page arithmetic and saturating helpers shared by the policy files.
// Limits are written in whole pages (the kernel rounds memory.max /
// limit_in_bytes down to a page anyway), so every figure a plan writes is a
// page multiple; kUnlimited passes through untouched.
#pragma once
#include <cstdint>

#include "util/units.hpp"

namespace ow::policy {

// page_bytes must be > 0 (Params defaults it to 4096).
inline uint64_t page_down(uint64_t v, uint64_t page_bytes) {
  if (v == kUnlimited) return v;
  return v - v % page_bytes;
}

// Saturates at the largest page multiple instead of overflowing.
inline uint64_t page_up(uint64_t v, uint64_t page_bytes) {
  if (v == kUnlimited) return v;
  uint64_t r = v % page_bytes;
  if (r == 0) return v;
  uint64_t add = page_bytes - r;
  return v > kUnlimited - add ? page_down(kUnlimited, page_bytes) : v + add;
}

inline uint64_t sub_sat(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

// Addition that treats kUnlimited as infinity and never wraps.
inline uint64_t add_sat(uint64_t a, uint64_t b) {
  return a > kUnlimited - b ? kUnlimited : a + b;
}

// fraction (0..1) of bytes, to the nearest byte; unlimited stays unlimited.
// Nearest, not up: 0.1 is not exact in binary, and rounding 10 % of 100 MiB
// up would turn 10485760.000000002 into a whole extra page downstream.
inline uint64_t fraction_of(uint64_t bytes, double fraction) {
  if (bytes == kUnlimited) return kUnlimited;
  if (fraction <= 0) return 0;
  long double v = static_cast<long double>(bytes) * fraction + 0.5L;
  if (v >= static_cast<long double>(kUnlimited)) return kUnlimited;
  return static_cast<uint64_t>(v);
}

}  // namespace ow::policy
