// The history database's schema, versioned with PRAGMA user_version and marked
// as ours with PRAGMA application_id, so an older oomwatch refuses a newer file
// and nobody mistakes some other SQLite file for history.
//
//   series(id, path, cgroup_id)          one row per (path, cgroup_id): a recreated
//                                        cgroup is a new series under the same path
//   raw(ts, series, usage, lim, peak,    every sample, kept raw_keep (1 h); key
//       high, swap, failcnt, ev_*, ws,   (ts, series): inserts append, pruning cuts
//       n, last)                         the front, a window is one range scan;
//                                        ws = working set (NULL: not recorded);
//                                        a row stands for n samples with the same
//                                        figures, spread evenly from ts to last,
//                                        all in one bucket (NULL: one sample, at ts):
//                                        an idle cgroup is one row a minute, not 60
//   bucket(start, series, n, min, max,   one row per series per bucket width (1 min),
//          sum, peak_first, peak_last,   kept retention (7 d); sketch = LogSketch
//          lim, sketch, ws_min, ws_max,  blob (stats/sketch.hpp); ws_*: the working
//          ws_sum, ws_sketch)            set's, NULL when a sample in it had none
//   hour(bucket's columns, peak_rise)    one row per series per hour (60 buckets), rolled
//                                        up from the buckets, same retention; start is
//                                        its first bucket's; peak_rise: the highest
//                                        watermark reached between two of its buckets
//                                        (0: none); a day's window reads these
//   meta(key, value)                     bucket_ns, rolled_until_ns, raw_since_ns,
//                                        hour_rolled_until_ns
//   recommendation(ts, path, request,    every recommendation the agent made (passed
//       lim, ws_avg, ws_p95, ws_max,     hysteresis and cooldown), kept for audit;
//       window_ns, confidence, rationale) key (path, ts): the last one per path is one seek
//   oom_kill(ts, path, victim, usage,    every OOM kill the agent saw, from the kernel's
//       lim, pid, memsw)                 event: path = the cgroup whose limit was hit
//                                        ("" for a machine-wide OOM), victim = the killed
//                                        task's cgroup, usage/lim = that limit's page
//                                        counter at the kill (bytes); kept retention,
//                                        like the buckets: a kill counts a week later
// Byte counts are stored as int64 bit patterns: kUnlimited reads as -1 in SQL.
// WITHOUT ROWID tables keep each row once, in key order (no separate rowid tree).
#pragma once
#include <cstdint>

#include "store/sqlite.hpp"

namespace ow::store {

// 2: working set (ws) in raw and bucket, the recommendation table; 3: the hour
// tier; 4: runs of unchanged samples in raw (n, last); 5: the oom_kill table. Older files are
// migrated on open, one version at a time.
inline constexpr int kSchemaVersion = 5;
inline constexpr int64_t kApplicationId = 0x6f6f6d77;  // "oomw"

// Empty database: creates the schema (not when readonly: error). Existing one:
// checks it is ours and not newer than this build. Any SQLite failure (corrupt
// file, "file is not a database") comes back as an error naming the file.
Status ensure_schema(Db& db, int64_t bucket_ns, bool readonly);

}  // namespace ow::store
