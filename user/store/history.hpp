// HistoryStore: the daemon's sample history in an embedded SQLite database
// (default /var/lib/oomwatch/history.db), schema in schema.hpp.
//
// Tiers (StoreOptions):
//   raw     every sample as taken, kept raw_keep (1 h): windows inside it are
//           answered exactly from raw samples; unchanged samples of a series
//           within a bucket share one row (a run, see insert());
//   bucket  1-minute summaries (count, min, max, sum, watermarks, LogSketch),
//           kept retention (7 d): older windows get exact min/max/avg/count and
//           median/p95 within 1 % (stats/sketch.hpp). At a bucket edge a window is
//           1-minute granular: a bucket belongs to it when its start does.
// Durability: WAL, synchronous=FULL, one transaction per insert() call; a
// committed snapshot's figures survive a crash or a power cut; what a crash
// can lose is the count of the runs still open (samples after a run's first,
// within the current minute). A crash mid-maintain() rolls the whole pass back; the next pass redoes it.
// Cost, measured by tests/bench/bench_stats.cpp at 1,000 cgroups and 1 s: the
// raw hour is ~146 MiB (~42 B/sample), a day of buckets ~88 MiB (~64 B/bucket);
// a week is ~0.11 MiB per cgroup per day. maintain() takes ~70 ms a minute.
// Not thread-safe: one HistoryStore per thread; other processes may read the
// same file concurrently (WAL readers see the last committed state).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sampler/sample.hpp"
#include "stats/bucket.hpp"
#include "stats/window.hpp"
#include "store/sqlite.hpp"

namespace ow::store {

inline constexpr const char* kDefaultHistoryPath = "/var/lib/oomwatch/history.db";

// The page cache of each of the agent's connections: the tail pages of the
// tables a writer appends to, and a reader's scan, fit in it.
constexpr int64_t kAgentCacheKib = 512;

struct StoreOptions {
  int64_t raw_keep_ns = 3600LL * 1'000'000'000;            // raw samples: 1 h
  int64_t bucket_ns = 60LL * 1'000'000'000;                // downsampling width; fixed at creation
  int64_t retention_ns = 7LL * 86400 * 1'000'000'000;      // buckets: 7 days
  int64_t rollup_lag_ns = 5LL * 1'000'000'000;             // roll a bucket up this long after it ends
  // insert() writes the counts of the open runs at most this long apart, so
  // another process reads an unchanged cgroup's samples at most this late.
  // When snapshots are further apart than a third of this, three snapshots
  // apart instead; and always when their bucket ends.
  int64_t run_counts_every_ns = 10LL * 1'000'000'000;
  bool readonly = false;  // `stats`: never creates or changes the file
  // SQLite's page cache of this connection, KiB (0: SQLite's default,
  // 2 MiB). The agent's three connections each filled theirs in its first
  // half hour: a long-lived process sets it smaller.
  int64_t cache_kib = 0;
};

struct MaintainReport {
  uint64_t buckets_written = 0, raw_deleted = 0, buckets_deleted = 0, hours_written = 0;
};

struct WindowResult {
  stats::StatsByCgroup stats;  // empty when nothing selected has samples in the window
  bool exact = true;           // false: part of the window came from buckets
  uint64_t bucket_rows = 0, hour_rows = 0;  // what the query read from each tier
};

// One recommendation the agent made, as stored for audit.
struct RecommendationRow {
  int64_t ts_ns = 0;
  std::string path;
  uint64_t request_bytes = 0, limit_bytes = 0;
  uint64_t ws_avg_bytes = 0, ws_p95_bytes = 0, ws_max_bytes = 0;
  int64_t window_ns = 0;
  std::string confidence, rationale;
};

// One OOM kill as the kernel reported it (the agent's event), stored so a
// kill counts with the usage at the moment it struck, not the usage of the
// nearest sample (taken after the kill freed the memory).
struct KillRow {
  int64_t ts_ns = 0;
  std::string path;    // the cgroup whose limit was hit; "" for a machine-wide OOM
  std::string victim;  // the killed task's memory cgroup
  uint64_t usage_bytes = 0, limit_bytes = 0;  // that limit's page counter at the kill
  int64_t pid = 0;
  bool memsw = false;  // v1: the memory+swap limit was hit (usage/limit are memsw figures)
};

// One slot of a chart (history_chart.cpp): the highest usage and working set
// of raw samples and buckets starting in [start_ns, start_ns + slot), the last limit.
struct ChartPoint {
  int64_t start_ns = 0;
  uint64_t usage_max_bytes = 0, ws_max_bytes = 0;
  uint64_t limit_bytes = kUnlimited;
};
struct ChartSeries {
  std::vector<ChartPoint> points;       // ascending, empty slots omitted
  std::vector<int64_t> oom_kill_ts_ns;  // raw samples whose oom_kill counter rose
};

class HistoryStore {
 public:
  // Creates the directory and the database when missing (not readonly).
  // Errors: unreadable, corrupt, foreign or newer-schema file, each naming it.
  static Result<HistoryStore> open(const std::string& path, const StoreOptions& opts = {});
  HistoryStore(HistoryStore&&) noexcept = default;
  HistoryStore& operator=(HistoryStore&&) = delete;
  ~HistoryStore();  // flush(), best effort: a closed store keeps its runs' counts

  // One transaction for all snapshots given: all or nothing. A sample with
  // ts_ns 0 takes its snapshot's ts_ns. The same (ts, path, cgroup_id) twice
  // keeps the last. Samples older than the rolled-up horizon still land in
  // the raw tier but never in buckets (the daemon's clock went backwards).
  // A sample whose figures all equal its series' previous sample in the
  // same bucket is not a new row: it extends that row's run (raw.n, raw.last;
  // see schema.hpp). The run's count is written when it ends (a figure
  // changes, the bucket ends), every run_counts_every_ns (every three
  // snapshots when they are further apart than a third of it), at maintain() and
  // flush(), and before this handle answers a query; a reader in another
  // process sees the run as far as its count was last written.
  Status insert(const sampler::Snapshot& snap);
  Status insert(std::span<const sampler::Snapshot> snaps);
  // Writes the counts of the runs still open (the daemon at stop).
  Status flush();

  // Rolls finished buckets up from raw samples, drops raw samples older than
  // raw_keep and buckets older than retention, in one transaction. The daemon
  // calls it about once per bucket width; any cadence is correct.
  Result<MaintainReport> maintain(int64_t now_ns);

  // Every cgroup path with a series (data may have aged out since).
  Result<std::vector<std::string>> paths();
  // selectors: stats/select.hpp (empty: all). Ascending time.
  Result<std::vector<sampler::Sample>> raw_samples(const stats::TimeRange& r, const std::vector<std::string>& selectors);
  // The same samples one at a time, never all in memory (an hour of 10,000
  // cgroups at 1 s is 36 M samples, gigabytes as a vector): each series'
  // samples in ascending time, series interleaved by the start of their
  // rows. f's Sample is reused from one call to the next.
  Status for_each_raw_sample(const stats::TimeRange& r, const std::vector<std::string>& selectors,
                             const std::function<void(const sampler::Sample&)>& f);
  Result<std::vector<std::pair<std::string, stats::Bucket>>> buckets(const stats::TimeRange& r,
                                                                     const std::vector<std::string>& selectors);
  // Exact from raw when the window starts inside the raw tier; otherwise
  // buckets for what was rolled up plus raw samples after that. use_buckets:
  // the buckets wherever they exist, raw samples only after them, for the
  // agent's periodic reads: quantiles within 1 % and the samples before the
  // first bucket start inside the window left out, for a sixtieth of the rows
  // at a 1 s interval (an hour of 10,000 cgroups: 36 M raw rows, 600 k buckets).
  Result<WindowResult> window_stats(const stats::TimeRange& r, const std::vector<std::string>& selectors,
                                    bool use_buckets = false);

  // Recommendations (history_recommend.cpp): one transaction per call; the
  // same (path, ts) twice keeps the last. last_recommendations: the newest
  // per path, of the selected paths (stats/select.hpp; empty: all).
  Status insert_recommendations(std::span<const RecommendationRow> rows);
  Result<std::map<std::string, RecommendationRow>> last_recommendations(const std::vector<std::string>& selectors);

  // OOM kills (history_kills.cpp): one transaction per call; the same
  // (path, ts, pid) twice keeps the last. kills: those in r whose limit path
  // is selected (stats/select.hpp; empty: all, machine-wide ones too),
  // ascending time. Kept as long as the buckets (maintain()).
  Status insert_kills(std::span<const KillRow> rows);
  Result<std::vector<KillRow>> kills(const stats::TimeRange& r, const std::vector<std::string>& selectors);

  // Series for charts of exactly these paths (descendants not included),
  // downsampled to slot_ns (> 0) while read, so memory is per slot, not per row.
  Result<std::map<std::string, ChartSeries>> chart_series(const stats::TimeRange& r,
                                                          const std::vector<std::string>& paths, int64_t slot_ns);
  int64_t bucket_ns() const { return bucket_ns_; }
  const std::string& path() const { return db_.path(); }

 private:
  struct SeriesInfo {
    std::string path;
    uint64_t cgroup_id = 0;
  };
  struct Horizons {
    int64_t rolled_until_ns = INT64_MIN;  // buckets with start < this are complete
    int64_t raw_since_ns = INT64_MIN;     // raw samples with ts >= this are all kept
    int64_t hours_until_ns = INT64_MIN;   // hour rows with start < this are complete
  };
  HistoryStore(Db db, StoreOptions opts) : db_(std::move(db)), opts_(opts), bucket_ns_(opts.bucket_ns) {}
  Result<int64_t> series_key(const std::string& path, uint64_t cgroup_id);
  Result<std::map<int64_t, SeriesInfo>> load_series();
  // What a query over time starts with: the range checked, this handle's open
  // runs written first when they count (flush_runs), a read transaction (one
  // consistent state across the query's statements), and the series.
  struct ReadScope {
    Txn txn;
    std::map<int64_t, SeriesInfo> series;
  };
  Result<ReadScope> begin_read(const stats::TimeRange& r, bool flush_runs);
  Result<Horizons> load_horizons();
  Status set_meta(const char* key, int64_t value);
  Result<MaintainReport> maintain_pass(int64_t now_ns);  // maintain() in one transaction
  Result<uint64_t> roll_up(int64_t from_ns, int64_t to_ns);
  Result<uint64_t> roll_up_hours(int64_t from_ns, int64_t to_ns);  // hour rows from buckets
  Result<uint64_t> roll_up_hour_batch(Stmt& rows, Stmt& put, int64_t start, int64_t lo, int64_t hi);
  // Series whose hour rows are made together: what an hour's roll-up holds.
  static constexpr int64_t kHourRollupSeries = 512;
  int64_t hour_ns() const { return kBucketsPerHourRow * bucket_ns_; }
  static constexpr int64_t kBucketsPerHourRow = 60;
  Status prepare_statements();
  // The run of unchanged samples a series is in, within run_bucket_ns_.
  using RunValues = std::array<uint64_t, 12>;
  struct Run {
    int64_t first_ns = 0, last_ns = 0;  // its row's key is (first_ns, series)
    uint64_t n = 1, written_n = 1;      // samples in it; the count its row has
    RunValues values{};
  };
  static RunValues values_of(const sampler::Sample& s);
  Status write_run_count(int64_t key, Run& run);  // inside a write transaction
  Status write_run_counts();                      // every open run; inside a write transaction

  Db db_;
  StoreOptions opts_;
  int64_t bucket_ns_;
  struct CachedSeries {
    // Of the path the series was found under: an id seen under another path
    // (an inode reused, a renamed cgroup) is looked up again. Two paths of
    // one id with the same hash (odds 2^-64) would share a series.
    uint64_t path_hash = 0;
    int64_t key = 0;
    int64_t bucket = 0;  // the run bucket it was last used in
  };
  // cgroup_id -> its newest path's series; a series unused for a whole
  // bucket is dropped, so the cache follows the live cgroups, not the churn.
  std::unordered_map<uint64_t, CachedSeries> series_cache_;
  std::unordered_map<int64_t, Run> runs_;  // series key -> its open run
  int64_t run_bucket_ns_ = INT64_MIN;
  int64_t counts_written_ns_ = INT64_MIN;  // sample time of the last periodic count write
  int64_t last_snap_ts_ = INT64_MIN;       // the last snapshot inserted, for the spacing of snapshots
  Stmt ins_raw_, ins_series_, get_series_, upd_run_;
};

// Byte figures of a database on disk: the file plus its WAL.
Result<uint64_t> database_bytes(const std::string& path);

}  // namespace ow::store
