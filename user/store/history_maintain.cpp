// HistoryStore::maintain: roll finished buckets up from raw samples, then
// prune the raw tier and expired buckets, all in one transaction.
#include <algorithm>
#include <set>

#include "store/history.hpp"

namespace ow::store {
namespace {

// Roll up at most this many buckets' worth of raw samples per query, so a long
// backlog (maintain not called for days) never loads everything at once.
constexpr int64_t kRollupChunkBuckets = 60;

}  // namespace

Result<HistoryStore::Horizons> HistoryStore::load_horizons() {
  auto st = db_.prepare("SELECT key, value FROM meta WHERE key IN ('rolled_until_ns', 'raw_since_ns')");
  if (!st) return st.error();
  Horizons h;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    (st->text(0) == "rolled_until_ns" ? h.rolled_until_ns : h.raw_since_ns) = st->i64(1);
  }
  return h;
}

Status HistoryStore::set_meta(const char* key, int64_t value) {
  auto st = db_.prepare("INSERT OR REPLACE INTO meta VALUES(?, ?)");
  if (!st) return st.error();
  return st->bind(1, std::string_view(key)).bind(2, value).run();
}

Result<MaintainReport> HistoryStore::maintain(int64_t now_ns) {
  if (opts_.readonly) return app_error("history database opened read-only:", db_.path());
  auto txn = Txn::begin(db_, true);
  if (!txn) return txn.error();
  auto h = load_horizons();
  if (!h) return h.error();
  MaintainReport rep;
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
  if (auto st = txn->commit(); !st) return st.error();
  return rep;
}

Result<uint64_t> HistoryStore::roll_up(int64_t from_ns, int64_t to_ns) {
  auto series = load_series();
  if (!series) return series.error();
  auto first = db_.prepare("SELECT MIN(ts) FROM raw WHERE ts >= ? AND ts < ?");
  auto rows = db_.prepare("SELECT ts, series, usage, lim, peak, ws FROM raw WHERE ts >= ? AND ts < ?");
  auto put = db_.prepare("INSERT OR REPLACE INTO bucket VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!first || !rows || !put) return (!first ? first.error() : !rows ? rows.error() : put.error());
  uint64_t written = 0;
  int64_t start = from_ns;
  while (start < to_ns) {
    // Jump over gaps (the daemon was down, or this is the first pass ever).
    first->bind(1, start).bind(2, to_ns);
    auto r = first->step();
    if (!r) return r.error();
    bool none = !*r || first->is_null(0);
    int64_t min_ts = none ? 0 : first->i64(0);
    first->reset();
    if (none) break;
    start = stats::bucket_start(min_ts, bucket_ns_);
    int64_t end = (to_ns - start) / bucket_ns_ > kRollupChunkBuckets ? start + kRollupChunkBuckets * bucket_ns_ : to_ns;
    std::map<int64_t, std::vector<sampler::Sample>> by_series;
    std::set<std::pair<int64_t, int64_t>> no_ws;  // (series, bucket start) with a sample recorded before schema 2
    rows->bind(1, std::max(start, from_ns)).bind(2, end);
    for (;;) {
      auto row = rows->step();
      if (!row) return row.error();
      if (!*row) break;
      auto it = series->find(rows->i64(1));
      if (it == series->end()) continue;  // cannot happen: series rows are never deleted
      sampler::Sample s;
      s.ts_ns = rows->i64(0);
      s.cgroup_id = it->second.cgroup_id;
      s.usage_bytes = rows->u64(2);
      s.limit_bytes = rows->u64(3);
      s.peak_bytes = rows->u64(4);
      s.working_set_bytes = rows->u64(5);
      if (rows->is_null(5)) no_ws.emplace(it->first, stats::bucket_start(s.ts_ns, bucket_ns_));
      by_series[it->first].push_back(s);  // rows come in ts order: each series stays sorted
    }
    rows->reset();
    for (const auto& [id, samples] : by_series) {
      for (const auto& b : stats::build_buckets(samples, bucket_ns_)) {
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

}  // namespace ow::store
