// HistoryStore queries: series, raw samples, buckets, window statistics. Each
// runs in one read transaction, so a daemon committing meanwhile cannot make a
// window see half a roll-up.
#include <algorithm>

#include "stats/select.hpp"
#include "store/history.hpp"
#include "store/raw_run.hpp"

namespace ow::store {
namespace {

// Series id -> slot of the selected path (-1: not selected). Series ids are
// small dense integers (SQLite rowids), so a vector beats a hash per row.
struct Slots {
  std::vector<int32_t> of_series;
  std::vector<uint64_t> cgroup_id;  // by series id
  std::vector<std::string> paths;
  int32_t get(int64_t id) const {
    return id >= 0 && static_cast<uint64_t>(id) < of_series.size() ? of_series[id] : -1;
  }
};

template <typename SeriesMap>
Slots select_slots(const SeriesMap& series, const std::vector<std::string>& selectors) {
  Slots s;
  std::map<std::string, int32_t> by_path;
  int64_t max_id = series.empty() ? -1 : series.rbegin()->first;
  s.of_series.assign(static_cast<size_t>(max_id + 1), -1);
  s.cgroup_id.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [id, info] : series) {
    if (id < 0 || !stats::selected(selectors, info.path)) continue;
    s.cgroup_id[id] = info.cgroup_id;
    auto [it, fresh] = by_path.emplace(info.path, static_cast<int32_t>(s.paths.size()));
    if (fresh) s.paths.push_back(info.path);
    s.of_series[id] = it->second;
  }
  return s;
}

// f(series id) for each row of q whose series (column 1) is selected, until
// a row fails to step or f fails.
template <typename F>
Status for_each_selected_row(Stmt& q, const Slots& slots, F&& f) {
  return q.each_row([&]() -> Status {
    int64_t id = q.i64(1);
    return slots.get(id) < 0 ? Status{} : f(id);
  });
}

}  // namespace

Result<std::map<int64_t, HistoryStore::SeriesInfo>> HistoryStore::load_series() {
  auto st = db_.prepare("SELECT id, path, cgroup_id FROM series");
  if (!st) return st.error();
  std::map<int64_t, SeriesInfo> out;
  auto rows = st->each_row([&] { out[st->i64(0)] = SeriesInfo{std::string(st->text(1)), st->u64(2)}; });
  if (!rows) return rows.error();
  return out;
}

Result<HistoryStore::ReadScope> HistoryStore::begin_read(const stats::TimeRange& r, bool flush_runs) {
  if (auto st = stats::check_range(r); !st) return st.error();
  if (flush_runs)
    if (auto st = flush(); !st) return st.error();
  auto txn = Txn::begin(db_, false);
  if (!txn) return txn.error();
  auto series = load_series();
  if (!series) return series.error();
  return ReadScope{std::move(*txn), std::move(*series)};
}

Result<std::vector<std::string>> HistoryStore::paths() {
  auto series = load_series();
  if (!series) return series.error();
  std::vector<std::string> out;
  for (const auto& [id, info] : *series) out.push_back(info.path);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status HistoryStore::for_each_raw_sample(const stats::TimeRange& r, const std::vector<std::string>& selectors,
                                         const std::function<void(const sampler::Sample&)>& f) {
  auto read = begin_read(r, true);  // this handle's open runs count too
  if (!read) return read.error();
  auto& series = read->series;
  // Selection per series once, not per row: the agent's recommendation
  // worker passes hundreds of selectors over an hour of raw rows.
  Slots slots = select_slots(series, selectors);
  auto q = db_.prepare("SELECT * FROM raw WHERE ts >= ? AND ts <= ?");
  if (!q) return q.error();
  q->bind(1, raw_scan_from(r.from_ns, bucket_ns_)).bind(2, r.to_ns);
  sampler::Sample s;
  int64_t last_id = -1;
  auto rows = for_each_selected_row(*q, slots, [&](int64_t id) -> Status {
    if (id != last_id) {  // consecutive rows are often one series' (a run's bucket)
      auto it = series.find(id);
      s.cgroup = it->second.path;
      s.cgroup_id = it->second.cgroup_id;
      last_id = id;
    }
    // A NULL ws (recorded before schema 2) reads as 0.
    q->u64s(2, {&s.usage_bytes, &s.limit_bytes, &s.peak_bytes, &s.high_bytes, &s.swap_bytes, &s.failcnt, &s.ev_low,
                &s.ev_high, &s.ev_max, &s.ev_oom, &s.ev_oom_kill, &s.working_set_bytes});
    auto run = raw_run(*q, 0, 14, 15);
    if (!run) return corrupt_raw_row(db_.path());
    for_each_run_sample(*run, r.from_ns, r.to_ns, [&](int64_t t) {
      s.ts_ns = t;
      f(s);
    });
    return {};
  });
  if (!rows) return rows;
  return read->txn.commit();
}

Result<std::vector<sampler::Sample>> HistoryStore::raw_samples(const stats::TimeRange& r,
                                                              const std::vector<std::string>& selectors) {
  std::vector<sampler::Sample> out;
  if (auto st = for_each_raw_sample(r, selectors, [&](const sampler::Sample& s) { out.push_back(s); }); !st)
    return st.error();
  // A run's later samples came before other series' samples of the same time.
  auto by_time = [](const auto& a, const auto& b) { return a.ts_ns < b.ts_ns; };
  if (!std::is_sorted(out.begin(), out.end(), by_time)) std::stable_sort(out.begin(), out.end(), by_time);
  return out;
}

Result<std::vector<std::pair<std::string, stats::Bucket>>> HistoryStore::buckets(
    const stats::TimeRange& r, const std::vector<std::string>& selectors) {
  auto read = begin_read(r, false);
  if (!read) return read.error();
  auto& series = read->series;
  Slots slots = select_slots(series, selectors);
  auto q = db_.prepare("SELECT * FROM bucket WHERE start >= ? AND start <= ?");
  if (!q) return q.error();
  q->bind(1, r.from_ns).bind(2, r.to_ns);
  std::vector<std::pair<std::string, stats::Bucket>> out;
  auto rows = for_each_selected_row(*q, slots, [&](int64_t id) -> Status {
    auto it = series.find(id);
    stats::Bucket b;
    b.start_ns = q->i64(0);
    b.cgroup_id = it->second.cgroup_id;
    q->u64s(2, {&b.count, &b.min_bytes, &b.max_bytes, &b.sum_bytes, &b.peak_first_bytes, &b.peak_last_bytes,
                &b.limit_bytes});
    int c = 9;
    auto sk = stats::LogSketch::decode(q->blob(c));
    if (!sk) return app_error("corrupt bucket row (" + sk.error().message() + ") in", db_.path());
    b.sketch = std::move(*sk);
    ++c;  // ws_min, ws_max, ws_sum, ws_sketch
    b.has_ws = !q->is_null(c + 3);
    if (b.has_ws) {
      b.ws_min_bytes = q->u64(c);
      b.ws_max_bytes = q->u64(c + 1);
      b.ws_sum_bytes = q->u64(c + 2);
      auto wsk = stats::LogSketch::decode(q->blob(c + 3));
      if (!wsk) return app_error("corrupt bucket row (" + wsk.error().message() + ") in", db_.path());
      b.ws_sketch = std::move(*wsk);
    }
    out.emplace_back(it->second.path, std::move(b));
    return {};
  });
  if (!rows) return rows.error();
  if (auto st = read->txn.commit(); !st) return st.error();
  return out;
}

Result<WindowResult> HistoryStore::window_stats(const stats::TimeRange& r, const std::vector<std::string>& selectors,
                                                bool use_buckets) {
  auto read = begin_read(r, true);  // this handle's open runs count too
  if (!read) return read.error();
  auto h = load_horizons();
  if (!h) return h.error();
  Slots slots = select_slots(read->series, selectors);
  std::vector<stats::WindowAccumulator> acc(slots.paths.size());
  WindowResult out;
  out.exact = r.from_ns >= h->raw_since_ns && !(use_buckets && h->rolled_until_ns > r.from_ns);
  int64_t raw_from = r.from_ns;
  if (!out.exact) {
    // Raw samples before raw_since are gone: take buckets up to the roll-up
    // horizon, raw samples after it. rolled_until >= raw_since > from here.
    int64_t bucket_to = std::min(r.to_ns, h->rolled_until_ns - 1);
    // Rows with start in [lo, hi] of `table` (bucket or hour: same columns).
    auto scan = [&](const char* table, int64_t lo, int64_t hi, uint64_t& rows) -> Status {
      bool hours = std::string_view(table) == "hour";
      auto q = db_.prepare(std::string("SELECT start, series, n, min, max, sum, peak_first, peak_last, sketch, ws_min, "
                                       "ws_max, ws_sum, ws_sketch") +
                           (hours ? ", peak_rise" : "") + " FROM " + table + " WHERE start >= ? AND start <= ?");
      if (!q) return q.error();
      q->bind(1, lo).bind(2, hi);
      stats::Bucket b;
      auto corrupt = [&](const Error& e) {
        return app_error(std::string("corrupt ") + table + " row (" + e.message() + ") in", db_.path());
      };
      return q->each_row([&]() -> Status {
        ++rows;
        int32_t slot = slots.get(q->i64(1));
        if (slot < 0) return {};
        b.start_ns = q->i64(0);
        b.cgroup_id = slots.cgroup_id[q->i64(1)];
        q->u64s(2, {&b.count, &b.min_bytes, &b.max_bytes, &b.sum_bytes, &b.peak_first_bytes, &b.peak_last_bytes});
        if (auto st = acc[slot].add_encoded(b, q->blob(8)); !st) return corrupt(st.error());
        if (!q->is_null(12))
          if (auto st = acc[slot].add_ws_encoded(b.count, q->u64(9), q->u64(10), q->u64(11), q->blob(12)); !st)
            return corrupt(st.error());
        if (hours && q->u64(13) != 0) acc[slot].add_watermark_rise(q->u64(13));
        return {};
      });
    };
    // Whole hours inside the window that are rolled up come from the hour
    // tier (a bucket belongs to a window when its start does, so an hour does
    // when all its buckets' starts do); the edges from buckets. In time order:
    // the accumulator follows the watermark from one row to the next.
    int64_t hn = hour_ns();
    // No sample is older than INT64_MIN / 2 (the year 1677 is INT64_MIN): the
    // clamp keeps the hour arithmetic of "from the beginning" from overflowing.
    int64_t from = std::max(r.from_ns, INT64_MIN / 2);
    int64_t h1 = stats::bucket_start(from, hn);
    if (h1 < from) h1 += hn;
    // An hour is inside when its last bucket's start is at most bucket_to.
    int64_t h2 = std::min(stats::bucket_start(bucket_to + bucket_ns_, hn), h->hours_until_ns);
    if (h1 < h2) {
      if (auto st = scan("bucket", r.from_ns, h1 - 1, out.bucket_rows); !st) return st.error();
      if (auto st = scan("hour", h1, h2 - 1, out.hour_rows); !st) return st.error();
      if (auto st = scan("bucket", h2, bucket_to, out.bucket_rows); !st) return st.error();
    } else if (auto st = scan("bucket", r.from_ns, bucket_to, out.bucket_rows); !st) {
      return st.error();
    }
    raw_from = std::max(r.from_ns, h->rolled_until_ns);
  }
  auto q = db_.prepare("SELECT ts, series, usage, peak, ws, n, last FROM raw WHERE ts >= ? AND ts <= ?");
  if (!q) return q.error();
  q->bind(1, raw_scan_from(raw_from, bucket_ns_)).bind(2, r.to_ns);
  auto rows = for_each_selected_row(*q, slots, [&](int64_t id) -> Status {
    int32_t slot = slots.get(id);
    uint64_t usage = q->u64(2), peak = q->u64(3), ws = q->u64(4);
    bool has_ws = !q->is_null(4);
    auto run = raw_run(*q, 0, 5, 6);
    if (!run) return corrupt_raw_row(db_.path());
    for_each_run_sample(*run, raw_from, r.to_ns, [&](int64_t t) {
      acc[slot].add_sample(t, slots.cgroup_id[id], usage, peak);
      if (has_ws) acc[slot].add_ws(ws);
    });
    return {};
  });
  if (!rows) return rows.error();
  if (auto st = read->txn.commit(); !st) return st.error();
  for (size_t i = 0; i < acc.size(); ++i)
    if (!acc[i].empty()) out.stats.emplace(slots.paths[i], acc[i].finish());
  return out;
}

}  // namespace ow::store
