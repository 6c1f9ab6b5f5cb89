#include "stats/window.hpp"

#include <algorithm>

#include "stats/quantile.hpp"
#include "stats/time.hpp"

namespace ow::stats {
namespace {

// What a bucket's sketch that disagrees with its count is called in the error.
constexpr std::string_view kUsageSketch = "sketch", kWsSketch = "working-set sketch";

std::string describe(int64_t ts) {
  if (ts == INT64_MIN) return "the beginning";
  if (ts == INT64_MAX) return "the end";
  return format_rfc3339(ts);
}

}  // namespace

Status check_range(const TimeRange& r) {
  if (r.to_ns < r.from_ns)
    return app_error("end of window " + describe(r.to_ns) + " is before its start " + describe(r.from_ns));
  return {};
}

void WindowAccumulator::note_entry(int64_t ts, uint64_t cgroup_id, uint64_t peak_first, uint64_t peak_last) {
  if (!have_prev_) first_ts_ = ts;
  last_ts_ = ts;
  if (have_prev_) max_watermark_ = std::max(max_watermark_, watermark_reached(prev_id_, prev_peak_, cgroup_id, peak_first));
  have_prev_ = true;
  prev_id_ = cgroup_id;
  prev_peak_ = peak_last;
}

void WindowAccumulator::add_sample(int64_t ts_ns, uint64_t cgroup_id, uint64_t usage, uint64_t peak) {
  note_entry(ts_ns, cgroup_id, peak, peak);
  usage_.add(usage);
}

void WindowAccumulator::add(const Bucket& b) {
  if (b.count == 0) return;
  note_entry(b.start_ns, b.cgroup_id, b.peak_first_bytes, b.peak_last_bytes);
  usage_.to_sketch();
  usage_.sketch.merge(b.sketch);
  // A watermark rise inside the bucket is already folded into its max; without
  // the raw samples it cannot be told apart, so it counts as a sample maximum.
  usage_.add_summary(b.count, b.min_bytes, b.max_bytes, b.sum_bytes);
  // A sketch built in this process always decodes: the status cannot fail.
  if (b.has_ws)
    (void)ws_.add_encoded(b.count, b.ws_min_bytes, b.ws_max_bytes, b.ws_sum_bytes, b.ws_sketch.encode(), kWsSketch);
}

Status WindowAccumulator::add_encoded(const Bucket& b, std::string_view sketch_blob) {
  if (b.count == 0) return {};
  if (auto st = usage_.add_encoded(b.count, b.min_bytes, b.max_bytes, b.sum_bytes, sketch_blob, kUsageSketch); !st)
    return st;
  note_entry(b.start_ns, b.cgroup_id, b.peak_first_bytes, b.peak_last_bytes);
  return {};
}

void WindowAccumulator::Values::add(uint64_t v) {
  ++n;
  min = std::min(min, v);
  max = std::max(max, v);
  sum += v;
  if (sketched)
    sketch.add(v);
  else
    raw.push_back(v);
}

void WindowAccumulator::Values::to_sketch() {
  if (sketched) return;
  for (uint64_t v : raw) sketch.add(v);
  raw = {};
  sketched = true;
}

void WindowAccumulator::Values::add_summary(uint64_t count, uint64_t mn, uint64_t mx, uint64_t sm) {
  n += count;
  min = std::min(min, mn);
  max = std::max(max, mx);
  sum += sm;
}

Status WindowAccumulator::Values::add_encoded(uint64_t count, uint64_t mn, uint64_t mx, uint64_t sm,
                                              std::string_view blob, std::string_view what) {
  if (count == 0) return {};
  to_sketch();
  uint64_t before = sketch.count();
  if (auto st = sketch.merge_encoded(blob); !st) return st;
  if (sketch.count() - before != count)
    return app_error("bucket " + std::string(what) + " disagrees with its sample count");
  add_summary(count, mn, mx, sm);
  return {};
}

void WindowAccumulator::Values::finish(uint64_t& mn, uint64_t& mx, uint64_t& avg, uint64_t& median, uint64_t& p95) {
  mn = min;
  mx = max;
  avg = static_cast<uint64_t>((sum + n / 2) / n);
  if (sketched) {
    // The sketch's representative can fall a hair outside what was seen; clamping
    // to [min, max] only moves it closer to the exact answer.
    median = std::clamp(sketch.quantile(kMedianPct), min, max);
    p95 = std::clamp(sketch.quantile(kP95Pct), min, max);
  } else {
    std::sort(raw.begin(), raw.end());
    median = quantile_sorted(raw, kMedianPct);
    p95 = quantile_sorted(raw, kP95Pct);
  }
}

Status WindowAccumulator::add_ws_encoded(uint64_t count, uint64_t min, uint64_t max, uint64_t sum,
                                         std::string_view sketch_blob) {
  return ws_.add_encoded(count, min, max, sum, sketch_blob, kWsSketch);
}

WindowStats WindowAccumulator::finish() {
  WindowStats w;
  w.samples = usage_.n;
  uint64_t max_sample = 0;
  usage_.finish(w.min_bytes, max_sample, w.avg_bytes, w.median_bytes, w.p95_bytes);
  w.max_bytes = std::max(max_sample, max_watermark_);
  w.max_from_watermark = max_watermark_ > max_sample;
  w.first_ts_ns = first_ts_;
  w.last_ts_ns = last_ts_;
  w.exact = !usage_.sketched;
  w.ws_samples = ws_.n;
  if (ws_.n) ws_.finish(w.ws_min_bytes, w.ws_max_bytes, w.ws_avg_bytes, w.ws_median_bytes, w.ws_p95_bytes);
  return w;
}

Result<StatsByCgroup> window_stats(std::span<const sampler::Sample> samples, const TimeRange& r) {
  if (auto st = check_range(r); !st) return st.error();
  std::map<std::string_view, std::vector<const sampler::Sample*>> by_path;
  for (const auto& s : samples)
    if (r.contains(s.ts_ns)) by_path[s.cgroup].push_back(&s);
  if (by_path.empty()) return app_error("no samples between " + describe(r.from_ns) + " and " + describe(r.to_ns));
  StatsByCgroup out;
  for (auto& [path, list] : by_path) {
    // Stable: samples with equal timestamps keep file order for the watermark walk.
    std::stable_sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->ts_ns < b->ts_ns; });
    WindowAccumulator acc;
    for (const auto* s : list) acc.add(*s);
    out.emplace(std::string(path), acc.finish());
  }
  return out;
}

}  // namespace ow::stats
