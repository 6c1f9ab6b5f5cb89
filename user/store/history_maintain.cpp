// HistoryStore::maintain: roll finished buckets up from raw samples, then
// prune the raw tier and expired buckets, all in one transaction.
#include <algorithm>
#include <map>
#include <vector>
#include <set>

#include "store/history.hpp"
#include "store/raw_run.hpp"

namespace ow::store {
namespace {

// Roll up at most this many buckets' worth of raw samples per query, so a long
// backlog (maintain not called for days) never loads everything at once.
constexpr int64_t kRollupChunkBuckets = 60;

// A raw row as the roll-up needs it.
struct RollupEntry {
  int64_t series = 0, ts = 0;
  uint64_t usage = 0, lim = 0, peak = 0, ws = 0, n = 1;
};

}  // namespace

Result<HistoryStore::Horizons> HistoryStore::load_horizons() {
  auto st = db_.prepare(
      "SELECT key, value FROM meta WHERE key IN ('rolled_until_ns', 'raw_since_ns', 'hour_rolled_until_ns')");
  if (!st) return st.error();
  Horizons h;
  auto rows = st->each_row([&] {
    std::string k(st->text(0));
    (k == "rolled_until_ns" ? h.rolled_until_ns : k == "raw_since_ns" ? h.raw_since_ns : h.hours_until_ns) = st->i64(1);
  });
  if (!rows) return rows.error();
  return h;
}

Status HistoryStore::set_meta(const char* key, int64_t value) {
  auto st = db_.prepare("INSERT OR REPLACE INTO meta VALUES(?, ?)");
  if (!st) return st.error();
  return st->bind(1, std::string_view(key)).bind(2, value).run();
}

Result<MaintainReport> HistoryStore::maintain(int64_t now_ns) {
  auto rep = maintain_pass(now_ns);
  // A failed pass rolled back the run counts it wrote: forget the open runs,
  // so the next samples start rows of their own instead of counting on them.
  if (!rep) runs_.clear();
  return rep;
}

Result<MaintainReport> HistoryStore::maintain_pass(int64_t now_ns) {
  if (opts_.readonly) return app_error("history database opened read-only:", db_.path());
  auto txn = Txn::begin(db_, true);
  if (!txn) return txn.error();
  auto h = load_horizons();
  if (!h) return h.error();
  MaintainReport rep;
  // Runs still open get their counts first: a roll-up must see every sample.
  if (auto st = write_run_counts(); !st) return st.error();
  // A bucket is finished when it ended rollup_lag ago: samples are stamped when
  // taken and may commit a moment later.
  int64_t cut = stats::bucket_start(now_ns - opts_.rollup_lag_ns, bucket_ns_);
  if (cut > h->rolled_until_ns) {
    auto n = roll_up(h->rolled_until_ns, cut);
    if (!n) return n.error();
    rep.buckets_written = *n;
    if (auto st = set_meta("rolled_until_ns", cut); !st) return st.error();
    h->rolled_until_ns = cut;
  }
  // Hours whose every bucket is rolled up.
  int64_t hour_cut = stats::bucket_start(h->rolled_until_ns, hour_ns());
  if (h->rolled_until_ns != INT64_MIN && hour_cut > h->hours_until_ns) {
    auto n = roll_up_hours(h->hours_until_ns, hour_cut);
    if (!n) return n.error();
    rep.hours_written = *n;
    if (auto st = set_meta("hour_rolled_until_ns", hour_cut); !st) return st.error();
  }
  // Raw samples go only once rolled up, so every sample lives in some tier.
  int64_t raw_cut = std::min(stats::bucket_start(now_ns - opts_.raw_keep_ns, bucket_ns_), h->rolled_until_ns);
  if (raw_cut > h->raw_since_ns) {
    auto del = db_.prepare("DELETE FROM raw WHERE ts < ?");
    if (!del) return del.error();
    if (auto st = del->bind(1, raw_cut).run(); !st) return st.error();
    rep.raw_deleted = static_cast<uint64_t>(db_.changes());
    if (auto st = set_meta("raw_since_ns", raw_cut); !st) return st.error();
  }
  auto del = db_.prepare("DELETE FROM bucket WHERE start < ?");
  if (!del) return del.error();
  if (auto st = del->bind(1, stats::bucket_start(now_ns - opts_.retention_ns, bucket_ns_)).run(); !st)
    return st.error();
  rep.buckets_deleted = static_cast<uint64_t>(db_.changes());
  auto del_hours = db_.prepare("DELETE FROM hour WHERE start < ?");
  if (!del_hours) return del_hours.error();
  if (auto st = del_hours->bind(1, stats::bucket_start(now_ns - opts_.retention_ns, hour_ns())).run(); !st)
    return st.error();
  auto del_kills = db_.prepare("DELETE FROM oom_kill WHERE ts < ?");
  if (!del_kills) return del_kills.error();
  if (auto st = del_kills->bind(1, now_ns - opts_.retention_ns).run(); !st) return st.error();
  if (auto st = txn->commit(); !st) return st.error();
  return rep;
}

Result<uint64_t> HistoryStore::roll_up(int64_t from_ns, int64_t to_ns) {
  auto first = db_.prepare("SELECT MIN(ts) FROM raw WHERE ts >= ? AND ts < ?");
  auto rows = db_.prepare("SELECT ts, series, usage, lim, peak, ws, n, last FROM raw WHERE ts >= ? AND ts < ?");
  auto put = db_.prepare("INSERT OR REPLACE INTO bucket VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!first || !rows || !put) return (!first ? first.error() : !rows ? rows.error() : put.error());
  uint64_t written = 0;
  std::vector<RollupEntry> entries;
  std::vector<sampler::Sample> samples;  // one series' entries at a time
  std::vector<uint64_t> counts;
  int64_t start = from_ns;
  while (start < to_ns) {
    // Jump over gaps (the daemon was down, or this is the first pass ever).
    auto min_ts = first->bind(1, start).bind(2, to_ns).first_i64();
    if (!min_ts) return min_ts.error();
    if (!*min_ts) break;
    start = stats::bucket_start(**min_ts, bucket_ns_);
    int64_t end = (to_ns - start) / bucket_ns_ > kRollupChunkBuckets ? start + kRollupChunkBuckets * bucket_ns_ : to_ns;
    // One entry per row, weighted by its run's count: a minute of an idle
    // cgroup is one entry here, not 60. Flat, then grouped by series (rows
    // come in ts order, a stable sort keeps each series' in it): a map of
    // per-series vectors of whole samples was 30,000 nodes and 60,000
    // allocations a minute at 30,000 cgroups, and several MiB at the peak.
    entries.clear();
    std::set<std::pair<int64_t, int64_t>> no_ws;  // (series, bucket start) with a sample recorded before schema 2
    rows->bind(1, std::max(start, from_ns)).bind(2, end);
    auto scanned = rows->each_row([&]() -> Status {
      RollupEntry e;
      e.series = rows->i64(1);
      rows->u64s(2, {&e.usage, &e.lim, &e.peak, &e.ws});
      if (rows->is_null(5)) no_ws.emplace(e.series, stats::bucket_start(rows->i64(0), bucket_ns_));
      auto run = raw_run(*rows, 0, 6, 7);
      if (!run) return corrupt_raw_row(db_.path());
      e.ts = run->ts;
      e.n = run->n;
      entries.push_back(e);
      return {};
    });
    if (!scanned) return scanned.error();
    rows->reset();
    std::stable_sort(entries.begin(), entries.end(),
                     [](const RollupEntry& x, const RollupEntry& y) { return x.series < y.series; });
    for (size_t i = 0; i < entries.size();) {
      const int64_t id = entries[i].series;
      samples.clear();
      counts.clear();
      for (; i < entries.size() && entries[i].series == id; ++i) {
        const RollupEntry& e = entries[i];
        sampler::Sample& x = samples.emplace_back();
        // The buckets need the cgroup id only to tell a recreated cgroup's
        // watermark from the same one's; a series is one cgroup, so its key
        // serves (the series table, every path of the node, is not read).
        x.cgroup_id = static_cast<uint64_t>(id);
        x.ts_ns = e.ts;
        x.usage_bytes = e.usage;
        x.limit_bytes = e.lim;
        x.peak_bytes = e.peak;
        x.working_set_bytes = e.ws;
        counts.push_back(e.n);
      }
      for (const auto& b : stats::build_buckets(samples, counts, bucket_ns_)) {
        put->bind(1, b.start_ns).bind(2, id).bind_u64(3, b.count).bind_u64(4, b.min_bytes).bind_u64(5, b.max_bytes);
        put->bind_u64(6, b.sum_bytes).bind_u64(7, b.peak_first_bytes).bind_u64(8, b.peak_last_bytes);
        put->bind_u64(9, b.limit_bytes).bind_blob(10, b.sketch.encode());
        if (!no_ws.count({id, b.start_ns})) {  // else ws_* stay NULL: unknown, not 0
          put->bind_u64(11, b.ws_min_bytes).bind_u64(12, b.ws_max_bytes).bind_u64(13, b.ws_sum_bytes);
          put->bind_blob(14, b.ws_sketch.encode());
        }
        if (auto st = put->run(); !st) return st.error();
        ++written;
      }
    }
    start = end;
  }
  return written;
}

// One hour row per series from its buckets of each hour in [from, to): counts,
// min, max, sum and sketches add up; a watermark rise between two of its
// buckets is kept apart (peak_rise), as a window over the buckets would see
// it; the watermark ends and the limit are the first and last buckets'. An
// hour row's start is its first bucket's, so a window's first sample time
// stays right.
//
// Series are rolled up kHourRollupSeries at a time, each batch read bucket
// start by bucket start (an index seek on (start, series) each): an hour's
// rows of every series at once held two sketches per series, about 15 MB
// for the 8,600 short-lived cgroups of an hour's churn.
Result<uint64_t> HistoryStore::roll_up_hours(int64_t from_ns, int64_t to_ns) {
  auto first = db_.prepare("SELECT MIN(start) FROM bucket WHERE start >= ? AND start < ?");
  auto span = db_.prepare("SELECT MIN(series), MAX(series) FROM bucket WHERE start >= ? AND start < ?");
  auto rows = db_.prepare(
      "SELECT start, series, n, min, max, sum, peak_first, peak_last, lim, sketch, ws_min, ws_max, ws_sum, ws_sketch "
      "FROM bucket WHERE start = ? AND series >= ? AND series < ?");
  auto put = db_.prepare("INSERT OR REPLACE INTO hour VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!first || !span || !rows || !put)
    return (!first ? first.error() : !span ? span.error() : !rows ? rows.error() : put.error());
  uint64_t written = 0;
  int64_t start = from_ns;
  while (start < to_ns) {
    auto min_start = first->bind(1, start).bind(2, to_ns).first_i64();  // jump over gaps
    if (!min_start) return min_start.error();
    if (!*min_start) break;
    start = stats::bucket_start(**min_start, hour_ns());
    int64_t end = start + hour_ns();
    int64_t lo = 0, hi = -1;  // the series with buckets in this hour
    span->bind(1, start).bind(2, end);
    if (auto st = span->each_row([&] {
          if (!span->is_null(0)) lo = span->i64(0), hi = span->i64(1);
        });
        !st)
      return st.error();
    span->reset();
    for (int64_t batch = lo; batch <= hi; batch += kHourRollupSeries) {
      auto n = roll_up_hour_batch(*rows, *put, start, batch, batch + kHourRollupSeries);
      if (!n) return n.error();
      written += *n;
    }
    start = end;
  }
  return written;
}

// The hour rows of series [lo, hi) for the hour at start.
Result<uint64_t> HistoryStore::roll_up_hour_batch(Stmt& rows, Stmt& put, int64_t start, int64_t lo, int64_t hi) {
  struct Hour {
    int64_t start = 0;
    uint64_t n = 0, min = UINT64_MAX, max = 0, sum = 0, peak_first = 0, peak_last = 0, lim = kUnlimited, rise = 0;
    stats::LogSketch sketch;
    bool has_ws = true;
    uint64_t ws_min = UINT64_MAX, ws_max = 0, ws_sum = 0;
    stats::LogSketch ws_sketch;
  };
  std::map<int64_t, Hour> by_series;
  auto corrupt = [&](const Error& e) { return app_error("corrupt bucket row (" + e.message() + ") in", db_.path()); };
  // Bucket start by bucket start: each series' buckets in time order.
  for (int64_t minute = start; minute < start + hour_ns(); minute += bucket_ns_) {
    rows.bind(1, minute).bind(2, lo).bind(3, hi);
    auto scanned = rows.each_row([&]() -> Status {
      auto [it, fresh] = by_series.try_emplace(rows.i64(1));
      Hour& h = it->second;
      uint64_t n = rows.u64(2), pf = rows.u64(6), pl = rows.u64(7);
      if (fresh) {
        h.start = rows.i64(0);
        h.peak_first = pf;
      } else if (h.peak_last != 0 && pf > h.peak_last) {
        h.rise = std::max(h.rise, pf);  // the watermark rose between two buckets
      }
      h.n += n;
      h.min = std::min(h.min, rows.u64(3));
      h.max = std::max(h.max, rows.u64(4));
      h.sum += rows.u64(5);
      h.peak_last = pl;
      h.lim = rows.u64(8);
      if (auto st = h.sketch.merge_encoded(rows.blob(9)); !st) return corrupt(st.error());
      if (rows.is_null(13)) {
        h.has_ws = false;
      } else if (h.has_ws) {
        h.ws_min = std::min(h.ws_min, rows.u64(10));
        h.ws_max = std::max(h.ws_max, rows.u64(11));
        h.ws_sum += rows.u64(12);
        if (auto st = h.ws_sketch.merge_encoded(rows.blob(13)); !st) return corrupt(st.error());
      }
      return {};
    });
    if (!scanned) return scanned.error();
    rows.reset();
  }
  uint64_t written = 0;
  for (const auto& [series, h] : by_series) {
    if (h.n == 0) continue;
    put.bind(1, h.start).bind(2, series).bind_u64(3, h.n).bind_u64(4, h.min).bind_u64(5, h.max);
    put.bind_u64(6, h.sum).bind_u64(7, h.peak_first).bind_u64(8, h.peak_last).bind_u64(9, h.lim);
    put.bind_blob(10, h.sketch.encode());
    if (h.has_ws) {  // else ws_* stay NULL: unknown, not 0
      put.bind_u64(11, h.ws_min).bind_u64(12, h.ws_max).bind_u64(13, h.ws_sum);
      put.bind_blob(14, h.ws_sketch.encode());
    }
    put.bind_u64(15, h.rise);
    if (auto st = put.run(); !st) return st.error();
    ++written;
  }
  return written;
}

}  // namespace ow::store
