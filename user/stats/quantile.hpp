// Exact quantiles of raw samples: the nearest-rank method.
//
// The pct-th percentile of n values is the k-th smallest, k = ceil(pct * n / 100)
// (at least 1). So the median of {1,2,3,4} is 2 and p95 of {1,2,3} is 3.
// Why nearest rank and not linear interpolation: the answer is always a
// consumption some sample actually saw, in whole bytes, so a limit derived from
// it is one the cgroup was observed to live with; and it is the same rank rule
// the downsampled sketch (sketch.hpp) reproduces, which is what makes the sketch's
// error bound provable. Integer arithmetic only: 0.95 * 20 in doubles is not 19.
#pragma once
#include <cstdint>
#include <span>

namespace ow::stats {

inline constexpr unsigned kMedianPct = 50;
inline constexpr unsigned kP95Pct = 95;

// 1-based rank; n > 0, 1 <= pct <= 100.
inline uint64_t nearest_rank(uint64_t n, unsigned pct) {
  uint64_t k = (static_cast<unsigned __int128>(n) * pct + 99) / 100;
  return k == 0 ? 1 : k;
}

// sorted: ascending, non-empty (the caller checks: an empty window is an error
// reported before any quantile is taken, never a 0).
inline uint64_t quantile_sorted(std::span<const uint64_t> sorted, unsigned pct) {
  return sorted[nearest_rank(sorted.size(), pct) - 1];
}

}  // namespace ow::stats
