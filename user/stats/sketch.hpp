// LogSketch: a mergeable quantile summary with a bounded *relative* error, used
// for downsampled history where the raw samples are gone (the DDSketch idea,
// Masson et al., VLDB 2019, answered with the nearest-rank rule of quantile.hpp).
//
// Bins: a value v < 256 has a bin of its own (exact). A larger v goes to bin
// j = ceil(log_g(v / 256)), g = (1 + a) / (1 - a), a = 0.5 %, which covers
// (256 g^(j-1), 256 g^j]; its representative r_j = 2 * 256 g^j / (g + 1) is
// within a * v of every v in the bin.
//
// Why quantiles stay within 1 % of exact: bins partition the value axis in order
// and keep exact counts, so the element of nearest rank k lies in the bin where
// the cumulative count first reaches k, and we answer that bin's representative:
//   |answer - exact| <= a * exact + 0.5 (rounding to whole bytes) < 0.7 % of exact
// (exact >= 256; below 256 the answer is exact). Merging adds counts per bin, so
// the same bound holds for any union of buckets: a day is as accurate as a minute.
// tests/unit/test_stats_sketch.cpp checks the per-value bound over every value
// scale and the end-to-end bound on synthetic series.
//
// Size: bins are dense between the lowest and highest key seen; one cgroup's
// minute rarely spans more than a few bins, a day typically tens to hundreds.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ow::stats {

class LogSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.005;
  static constexpr uint64_t kExactBelow = 256;

  static uint32_t key_of(uint64_t value_bytes);
  static uint64_t representative(uint32_t key);

  void add(uint64_t value_bytes, uint64_t count = 1);
  void merge(const LogSketch& o);
  void clear();
  uint64_t count() const { return n_; }
  bool empty() const { return n_ == 0; }
  // Nearest-rank pct-th percentile within the bound above. Requires !empty().
  uint64_t quantile(unsigned pct) const;

  // Compact blob for the history store: varint bin count, then per non-empty
  // bin the key delta and the count, as LEB128 varints.
  std::string encode() const;
  // Adds the counts of an encoded sketch (what a query does per bucket row,
  // without building a temporary sketch). Malformed blob -> error, nothing added.
  Status merge_encoded(std::string_view blob);
  static Result<LogSketch> decode(std::string_view blob);

  bool operator==(const LogSketch& o) const;

 private:
  void grow_to(uint32_t key);
  uint32_t lo_ = 0;                // key of counts_[0]
  std::vector<uint64_t> counts_;   // dense over [lo_, lo_ + size)
  uint64_t n_ = 0;
};

}  // namespace ow::stats
