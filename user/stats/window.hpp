// Window statistics per cgroup over [from, to]: min, max, median, p95, average
// and sample count of usage_bytes. Pure: the CLI feeds samples read from a file,
// the history store feeds rows and buckets from SQLite.
//
// Rules:
// - Quantiles are nearest-rank (quantile.hpp): exact while only raw samples were
//   added; once a downsampled bucket is added, from the merged LogSketch, within
//   1 % of exact (sketch.hpp). min, max, average and count stay exact either way.
// - max uses the kernel watermark: when peak_bytes rose between two consecutive
//   entries of the cgroup *inside the window*, usage reached the new peak in
//   between, so max is raised to it even though no sample saw it. A rise between
//   the last entry before the window and the first inside is not counted: the
//   spike may have happened before the window began.
// - Each cgroup path has its own count: cgroups that appear or vanish mid-window
//   report just the samples they have. A path recreated with a new cgroup_id is
//   the same path to stats (its watermark restarts, so no rise is inferred).
// - An empty window and to < from are errors, never zeros.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/sample.hpp"
#include "stats/bucket.hpp"
#include "stats/sketch.hpp"
#include "util/result.hpp"

namespace ow::stats {

struct WindowStats {
  uint64_t min_bytes = 0, max_bytes = 0, median_bytes = 0, p95_bytes = 0;
  uint64_t avg_bytes = 0;  // rounded to the nearest byte
  uint64_t samples = 0;    // raw samples, including those summarised in buckets
  int64_t first_ts_ns = 0, last_ts_ns = 0;  // a bucket counts at its start
  bool max_from_watermark = false;  // max_bytes is a watermark rise no sample saw
  bool exact = true;                // quantiles exact; false: from buckets, within 1 %
  // Working set (usage - inactive file), same rules but no watermark; only
  // entries that recorded it count (ws_samples 0: none did, figures 0).
  uint64_t ws_samples = 0;
  uint64_t ws_min_bytes = 0, ws_max_bytes = 0, ws_avg_bytes = 0, ws_median_bytes = 0, ws_p95_bytes = 0;
};

using StatsByCgroup = std::map<std::string, WindowStats>;

// Inclusive at both ends; the defaults mean "all of it".
struct TimeRange {
  int64_t from_ns = INT64_MIN;
  int64_t to_ns = INT64_MAX;
  bool contains(int64_t ts) const { return ts >= from_ns && ts <= to_ns; }
};
// to < from -> error naming both times.
Status check_range(const TimeRange& r);

// One cgroup path's window. Feed entries in ascending time.
class WindowAccumulator {
 public:
  void add_sample(int64_t ts_ns, uint64_t cgroup_id, uint64_t usage_bytes, uint64_t peak_bytes);
  // A sample and its working set (samples from files and snapshots always carry one).
  void add(const sampler::Sample& s) {
    add_sample(s.ts_ns, s.cgroup_id, s.usage_bytes, s.peak_bytes);
    add_ws(s.working_set_bytes);
  }
  // The working set of the sample just added (not called: not recorded).
  void add_ws(uint64_t ws_bytes) { ws_.add(ws_bytes); }
  // A bucket's working-set summary; bad blob or count -> error, nothing added.
  Status add_ws_encoded(uint64_t count, uint64_t min, uint64_t max, uint64_t sum, std::string_view sketch_blob);
  // A watermark rise seen between two entries already summarised together
  // (the buckets of one hour row): counts as the rises note_entry() finds.
  void add_watermark_rise(uint64_t reached) { max_watermark_ = std::max(max_watermark_, reached); }
  void add(const Bucket& b);
  // b's sketch is ignored; sketch_blob (LogSketch::encode) is merged instead,
  // which spares a query one temporary sketch per row. Bad blob -> error, nothing added.
  Status add_encoded(const Bucket& b, std::string_view sketch_blob);
  bool empty() const { return usage_.n == 0; }
  uint64_t count() const { return usage_.n; }
  // Requires !empty(). Sorts the raw values on first call.
  WindowStats finish();

 private:
  void note_entry(int64_t ts, uint64_t cgroup_id, uint64_t peak_first, uint64_t peak_last);

  // min/max/sum/quantiles of one figure: raw values while exact, then a sketch.
  struct Values {
    std::vector<uint64_t> raw;
    LogSketch sketch;
    bool sketched = false;
    uint64_t n = 0, min = UINT64_MAX, max = 0;
    unsigned __int128 sum = 0;
    void add(uint64_t v);
    // Moves the raw values into the sketch (before a bucket's sketch is merged).
    void to_sketch();
    // A bucket's count, min, max and sum; its sketch is merged by the caller.
    void add_summary(uint64_t count, uint64_t mn, uint64_t mx, uint64_t sm);
    // The summary and an encoded sketch; a bad blob or one whose count is not
    // `count` is an error naming `what`, and the summary is not added.
    Status add_encoded(uint64_t count, uint64_t mn, uint64_t mx, uint64_t sm, std::string_view blob,
                       std::string_view what);
    // n > 0: min, max, avg, median, p95.
    void finish(uint64_t& mn, uint64_t& mx, uint64_t& avg, uint64_t& median, uint64_t& p95);
  };
  Values usage_;  // its max is the highest sample; a watermark rise is kept apart
  Values ws_;
  uint64_t max_watermark_ = 0;
  int64_t first_ts_ = 0, last_ts_ = 0;
  bool have_prev_ = false;
  uint64_t prev_id_ = 0, prev_peak_ = 0;
};

// Samples in any order, any cgroups. Error: to < from, or no sample in range.
Result<StatsByCgroup> window_stats(std::span<const sampler::Sample> samples, const TimeRange& r);

}  // namespace ow::stats
