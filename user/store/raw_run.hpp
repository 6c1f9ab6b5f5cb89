// The samples one raw row stands for. Since schema 4 a row is a run: n
// samples (NULL: 1) with the same figures, spread evenly from ts to last
// (NULL: ts), all inside one bucket (see schema.hpp and HistoryStore::insert).
#pragma once
#include <algorithm>
#include <cstdint>

#include "stats/bucket.hpp"
#include "store/sqlite.hpp"

namespace ow::store {

// More samples than one row of any sane database claims (a minute's bucket
// at 1 ms is 60,000): a row past this is corrupt, and is not expanded.
inline constexpr uint64_t kMaxRunSamples = 1u << 20;

// Where a range query over raw must start for [from, ...]: a run that ends
// inside the range starts in the same bucket as its end, so at the earliest
// at from's bucket start. Clamped so "from the beginning" does not overflow.
inline int64_t raw_scan_from(int64_t from_ns, int64_t bucket_ns) {
  return stats::bucket_start(std::max(from_ns, INT64_MIN / 2), bucket_ns);
}

// Calls f(t) for each sample time of the row q is on whose time is in
// [lo, hi], ascending; ts, n and last are q's columns at those indices.
// false: the row is corrupt (n of 0 or past kMaxRunSamples, last before ts).
template <typename F>
bool for_each_run_sample(const Stmt& q, int ts_col, int n_col, int last_col, int64_t lo, int64_t hi, F&& f) {
  int64_t ts = q.i64(ts_col);
  uint64_t n = q.is_null(n_col) ? 1 : q.u64(n_col);
  int64_t last = q.is_null(last_col) ? ts : q.i64(last_col);
  if (n == 0 || n > kMaxRunSamples || last < ts || (n == 1 && last != ts)) return false;
  if (n == 1) {
    if (ts >= lo && ts <= hi) f(ts);
    return true;
  }
  // last - ts is within one bucket, so (last - ts) * i stays far from overflow.
  uint64_t span = static_cast<uint64_t>(last) - static_cast<uint64_t>(ts);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t t = ts + static_cast<int64_t>(span / (n - 1) * i + span % (n - 1) * i / (n - 1));
    if (t > hi) break;
    if (t >= lo) f(t);
  }
  return true;
}

}  // namespace ow::store
