// The samples one raw row stands for. Since schema 4 a row is a run: n
// samples (NULL: 1) with the same figures, spread evenly from ts to last
// (NULL: ts), all inside one bucket (see schema.hpp and HistoryStore::insert).
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "stats/bucket.hpp"
#include "store/sqlite.hpp"
#include "util/result.hpp"

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

struct RawRun {
  int64_t ts = 0, last = 0;  // its first and last sample times
  uint64_t n = 1;            // samples it stands for
};

// The run of the row q is on (ts, n and last are q's columns at those
// indices). nullopt: the row is corrupt (n of 0 or past kMaxRunSamples, last
// before ts, one sample with two times); corrupt_raw_row() is the error.
inline std::optional<RawRun> raw_run(const Stmt& q, int ts_col, int n_col, int last_col) {
  RawRun r;
  r.ts = q.i64(ts_col);
  r.n = q.is_null(n_col) ? 1 : q.u64(n_col);
  r.last = q.is_null(last_col) ? r.ts : q.i64(last_col);
  if (r.n == 0 || r.n > kMaxRunSamples || r.last < r.ts || (r.n == 1 && r.last != r.ts)) return std::nullopt;
  return r;
}

inline Error corrupt_raw_row(const std::string& db_path) {
  return app_error("corrupt raw row (bad run count or end) in", db_path);
}

// Calls f(t) for each sample time of r in [lo, hi], ascending.
template <typename F>
void for_each_run_sample(const RawRun& r, int64_t lo, int64_t hi, F&& f) {
  if (r.n == 1) {
    if (r.ts >= lo && r.ts <= hi) f(r.ts);
    return;
  }
  // last - ts is within one bucket, so (last - ts) * i stays far from overflow.
  uint64_t span = static_cast<uint64_t>(r.last) - static_cast<uint64_t>(r.ts);
  for (uint64_t i = 0; i < r.n; ++i) {
    int64_t t = r.ts + static_cast<int64_t>(span / (r.n - 1) * i + span % (r.n - 1) * i / (r.n - 1));
    if (t > hi) break;
    if (t >= lo) f(t);
  }
}

}  // namespace ow::store
