// HistoryStore: open and insert. Roll-up and retention are in
// history_maintain.cpp, queries in history_query.cpp.
#include "store/history.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <string_view>

#include "stats/bucket.hpp"
#include "store/schema.hpp"
#include "util/fs.hpp"

namespace ow::store {
namespace {

Status check_options(const StoreOptions& o) {
  if (o.bucket_ns <= 0 || o.raw_keep_ns < 0 || o.retention_ns <= 0 || o.rollup_lag_ns < 0 || o.run_counts_every_ns < 0)
    return app_error("history store: bucket width and retention must be positive, raw_keep, lag and the run count "
                     "period not negative");
  return {};
}

}  // namespace

Result<HistoryStore> HistoryStore::open(const std::string& path, const StoreOptions& opts) {
  if (auto st = check_options(opts); !st) return st.error();
  if (!opts.readonly) {
    if (auto dir = parent_dir(path); !dir.empty() && dir != "/")
      if (auto st = mkdir_p(dir); !st) return st.error();
    // Created here with oomwatch's file mode (SQLite would use 0644; its -wal
    // and -shm files copy the database's mode).
    if (auto st = check_record_file(path, "history database"); !st) return st.error();
  }
  auto db = Db::open(path, opts.readonly);
  if (!db) return db.error();
  if (!opts.readonly) {
    // WAL: readers (`stats`) never block the daemon's commits. synchronous=FULL
    // in WAL syncs the log at each commit: one fsync per snapshot keeps every
    // committed snapshot across a power cut, cheap at one snapshot a second.
    // secure_delete off: pruned samples are not secrets, zeroing them is I/O.
    auto mode = db->prepare("PRAGMA journal_mode=WAL");
    if (!mode) return mode.error();
    auto row = mode->step();
    if (!row) return row.error();
    if (!*row || mode->text(0) != "wal")
      return app_error("history database cannot use WAL (" + std::string(*row ? mode->text(0) : "") +
                           "); put it on a local filesystem:",
                       path);
    mode->reset();
    if (auto st = db->exec("PRAGMA synchronous=FULL; PRAGMA secure_delete=OFF; PRAGMA journal_size_limit=67108864");
        !st)
      return st.error();
  }
  if (opts.cache_kib > 0)
    if (auto st = db->exec("PRAGMA cache_size=-" + std::to_string(opts.cache_kib)); !st) return st.error();
  if (auto st = ensure_schema(*db, opts.bucket_ns, opts.readonly); !st) return st.error();
  HistoryStore h(std::move(*db), opts);
  // The width the buckets were written with wins over the option: mixing
  // widths would make counts at window edges meaningless.
  auto width = h.db_.query_int("SELECT value FROM meta WHERE key='bucket_ns'");
  if (!width) return width.error();
  if (*width <= 0) return app_error("history database has a bad bucket width:", path);
  h.bucket_ns_ = *width;
  if (!opts.readonly)
    if (auto st = h.prepare_statements(); !st) return st.error();
  return h;
}

Status HistoryStore::prepare_statements() {
  auto raw = db_.prepare("INSERT OR REPLACE INTO raw VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!raw) return raw.error();
  auto run = db_.prepare("UPDATE raw SET n = ?, last = ? WHERE ts = ? AND series = ?");
  if (!run) return run.error();
  auto ins = db_.prepare("INSERT OR IGNORE INTO series(path, cgroup_id) VALUES(?, ?)");
  if (!ins) return ins.error();
  auto get = db_.prepare("SELECT id FROM series WHERE path = ? AND cgroup_id = ?");
  if (!get) return get.error();
  ins_raw_ = std::move(*raw);
  upd_run_ = std::move(*run);
  ins_series_ = std::move(*ins);
  get_series_ = std::move(*get);
  return {};
}

Result<int64_t> HistoryStore::series_key(const std::string& path, uint64_t cgroup_id) {
  // By id first, then the path's 64-bit hash: a map keyed by (path, id)
  // compared long paths at every level, for every sample, and a copy of
  // every path (3 MiB at 30,000 cgroups) only told a reused id apart.
  const uint64_t path_hash = std::hash<std::string_view>{}(path);
  auto it = series_cache_.find(cgroup_id);
  if (it != series_cache_.end() && it->second.path_hash == path_hash) {
    it->second.bucket = run_bucket_ns_;
    return it->second.key;
  }
  if (auto st = ins_series_.bind(1, path).bind_u64(2, cgroup_id).run(); !st) return st.error();
  get_series_.bind(1, path).bind_u64(2, cgroup_id);
  auto row = get_series_.step();
  if (!row) return row.error();
  if (!*row) return app_error("series vanished while inserting:", db_.path());
  int64_t id = get_series_.i64(0);
  get_series_.reset();
  // An id seen under another path (an inode reused, a renamed cgroup) keeps the newest.
  series_cache_[cgroup_id] = CachedSeries{path_hash, id, run_bucket_ns_};
  return id;
}

Status HistoryStore::insert(const sampler::Snapshot& snap) { return insert(std::span(&snap, 1)); }

// In the raw table's column order, from usage to ws.
HistoryStore::RunValues HistoryStore::values_of(const sampler::Sample& s) {
  return {s.usage_bytes, s.limit_bytes, s.peak_bytes, s.high_bytes, s.swap_bytes, s.failcnt, s.ev_low,
          s.ev_high, s.ev_max, s.ev_oom, s.ev_oom_kill, s.working_set_bytes};
}

namespace {
// A snapshot's weight is its interval over the base: at most 60 s over the
// 50 ms floor. More is a bug upstream; clamped, not stored.
constexpr uint64_t kMaxWeight = 1200;
}  // namespace

Status HistoryStore::insert(std::span<const sampler::Snapshot> snaps) {
  if (opts_.readonly) return app_error("history database opened read-only:", db_.path());
  auto txn = Txn::begin(db_, true);
  if (!txn) return txn.error();
  // Whatever failed, the rolled-back transaction took cached series ids and
  // run rows with it: start both afresh.
  auto fail = [&](Error e) {
    series_cache_.clear();
    runs_.clear();
    return e;
  };
  for (const auto& snap : snaps) {
    for (const auto& s : snap.samples) {
      auto key = series_key(s.cgroup, s.cgroup_id);
      if (!key) return fail(key.error());
      int64_t ts = s.ts_ns ? s.ts_ns : snap.ts_ns;
      // A run never crosses a bucket boundary, so a roll-up and a window's
      // edge see whole runs: a sample in another bucket ends them all.
      if (int64_t b = stats::bucket_start(ts, bucket_ns_); b != run_bucket_ns_) {
        if (auto st = write_run_counts(); !st) return fail(st.error());
        counts_written_ns_ = ts;
        runs_.clear();
        std::erase_if(series_cache_, [&](const auto& e) { return e.second.bucket < run_bucket_ns_; });
        run_bucket_ns_ = b;
      }
      RunValues v = values_of(s);
      auto [it, fresh] = runs_.try_emplace(*key);
      Run& run = it->second;
      // A sample taken at a stretched interval stands for snap.weight samples
      // at the base interval: the run counts it that many times, so averages
      // and quantiles over a window weight it by the time it covers.
      const uint64_t w = std::clamp<uint64_t>(snap.weight, 1, kMaxWeight);
      if (!fresh && ts > run.last_ns && run.values == v) {  // unchanged: one more sample of the same row
        run.n += w;
        run.last_ns = ts;
        continue;
      }
      if (!fresh)
        if (auto st = write_run_count(*key, run); !st) return fail(st.error());
      ins_raw_.bind(1, ts).bind(2, *key);
      for (size_t i = 0; i < v.size(); ++i) ins_raw_.bind_u64(static_cast<int>(i) + 3, v[i]);
      // n and last NULL: one sample. A weighted sample is a run of w from the
      // start, in the same statement: at a stretched interval every row is
      // one, and an UPDATE of its count afterwards would double the writes.
      if (w > 1) ins_raw_.bind_u64(15, w).bind(16, ts);
      if (auto st = ins_raw_.run(); !st) return fail(st.error());
      run = Run{ts, ts, w, w, v};
    }
  }
  // In the same transaction, so it costs no commit of its own. At most
  // run_counts_every_ns apart, or three snapshots apart when snapshots are
  // further apart than a third of that: at a stretched interval a write at
  // every snapshot was an UPDATE per cgroup per snapshot (at 30,000 cgroups
  // and 13 s, 90,000 of the minute's statements), where a reader gains
  // nothing from counts fresher than a few snapshots.
  if (!snaps.empty()) {
    const int64_t ts = snaps.back().ts_ns;
    const int64_t prev = snaps.size() > 1 ? snaps[snaps.size() - 2].ts_ns : last_snap_ts_;
    const int64_t every =
        prev == INT64_MIN || ts <= prev ? opts_.run_counts_every_ns : std::max(opts_.run_counts_every_ns, 3 * (ts - prev));
    if (counts_written_ns_ == INT64_MIN || ts - counts_written_ns_ >= every) {
      if (auto st = write_run_counts(); !st) return fail(st.error());
      counts_written_ns_ = ts;
    }
    last_snap_ts_ = ts;
  }
  if (auto st = txn->commit(); !st) return fail(st.error());
  return {};
}

Status HistoryStore::write_run_count(int64_t key, Run& run) {
  if (run.n == run.written_n) return {};
  if (auto st = upd_run_.bind_u64(1, run.n).bind(2, run.last_ns).bind(3, run.first_ns).bind(4, key).run(); !st)
    return st;
  run.written_n = run.n;
  return {};
}

Status HistoryStore::write_run_counts() {
  for (auto& [key, run] : runs_)
    if (auto st = write_run_count(key, run); !st) return st;
  return {};
}

HistoryStore::~HistoryStore() {
  if (db_.is_open()) (void)flush();
}

Status HistoryStore::flush() {
  if (opts_.readonly) return {};
  bool pending = std::any_of(runs_.begin(), runs_.end(), [](const auto& r) { return r.second.n != r.second.written_n; });
  if (!pending) return {};
  auto txn = Txn::begin(db_, true);
  if (!txn) return txn.error();
  if (auto st = write_run_counts(); !st) {
    runs_.clear();
    return st;
  }
  if (auto st = txn->commit(); !st) {
    runs_.clear();
    return st;
  }
  return {};
}

Result<uint64_t> database_bytes(const std::string& path) {
  uint64_t total = 0;
  for (const std::string& p : {path, path + "-wal"}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0)
      total += static_cast<uint64_t>(st.st_size);
    else if (p == path)
      return sys_error("stat", p);
  }
  return total;
}

}  // namespace ow::store
