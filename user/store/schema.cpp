#include "store/schema.hpp"

#include <algorithm>
#include <iterator>
#include <string>

namespace ow::store {
namespace {

const char* kCreate = R"sql(
CREATE TABLE series(id INTEGER PRIMARY KEY, path TEXT NOT NULL, cgroup_id INTEGER NOT NULL,
                    UNIQUE(path, cgroup_id));
CREATE TABLE raw(ts INTEGER NOT NULL, series INTEGER NOT NULL, usage INTEGER NOT NULL,
                 lim INTEGER, peak INTEGER, high INTEGER, swap INTEGER, failcnt INTEGER,
                 ev_low INTEGER, ev_high INTEGER, ev_max INTEGER, ev_oom INTEGER, ev_oom_kill INTEGER,
                 ws INTEGER, n INTEGER, last INTEGER,
                 PRIMARY KEY(ts, series)) WITHOUT ROWID;
CREATE TABLE bucket(start INTEGER NOT NULL, series INTEGER NOT NULL, n INTEGER NOT NULL,
                    min INTEGER NOT NULL, max INTEGER NOT NULL, sum INTEGER NOT NULL,
                    peak_first INTEGER, peak_last INTEGER, lim INTEGER, sketch BLOB NOT NULL,
                    ws_min INTEGER, ws_max INTEGER, ws_sum INTEGER, ws_sketch BLOB,
                    PRIMARY KEY(start, series)) WITHOUT ROWID;
CREATE TABLE hour(start INTEGER NOT NULL, series INTEGER NOT NULL, n INTEGER NOT NULL,
                  min INTEGER NOT NULL, max INTEGER NOT NULL, sum INTEGER NOT NULL,
                  peak_first INTEGER, peak_last INTEGER, lim INTEGER, sketch BLOB NOT NULL,
                  ws_min INTEGER, ws_max INTEGER, ws_sum INTEGER, ws_sketch BLOB, peak_rise INTEGER,
                  PRIMARY KEY(start, series)) WITHOUT ROWID;
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE recommendation(ts INTEGER NOT NULL, path TEXT NOT NULL, request INTEGER NOT NULL, lim INTEGER NOT NULL,
                            ws_avg INTEGER NOT NULL, ws_p95 INTEGER NOT NULL, ws_max INTEGER NOT NULL,
                            window_ns INTEGER NOT NULL, confidence TEXT NOT NULL, rationale TEXT NOT NULL,
                            PRIMARY KEY(path, ts)) WITHOUT ROWID;
CREATE TABLE oom_kill(ts INTEGER NOT NULL, path TEXT NOT NULL, victim TEXT NOT NULL, usage INTEGER NOT NULL,
                      lim INTEGER NOT NULL, pid INTEGER NOT NULL, memsw INTEGER NOT NULL,
                      PRIMARY KEY(path, ts, pid)) WITHOUT ROWID;
)sql";

// Version 1 -> 2: the working set, and the recommendations the agent made. Columns are appended, so a migrated table
// has the same column order as a new one; rows from before stay NULL there
// ("not recorded"), never 0.
const char* kMigrate1to2 = R"sql(
ALTER TABLE raw ADD COLUMN ws INTEGER;
ALTER TABLE bucket ADD COLUMN ws_min INTEGER;
ALTER TABLE bucket ADD COLUMN ws_max INTEGER;
ALTER TABLE bucket ADD COLUMN ws_sum INTEGER;
ALTER TABLE bucket ADD COLUMN ws_sketch BLOB;
CREATE TABLE recommendation(ts INTEGER NOT NULL, path TEXT NOT NULL, request INTEGER NOT NULL, lim INTEGER NOT NULL,
                            ws_avg INTEGER NOT NULL, ws_p95 INTEGER NOT NULL, ws_max INTEGER NOT NULL,
                            window_ns INTEGER NOT NULL, confidence TEXT NOT NULL, rationale TEXT NOT NULL,
                            PRIMARY KEY(path, ts)) WITHOUT ROWID;
PRAGMA user_version=2;
)sql";

// Version 2 -> 3: hour rows rolled up from the minute buckets, so a window of
// a day reads 24 rows per cgroup instead of 1,440. They fill in at the next
// maintain() from the buckets already there (hour_rolled_until_ns starts unset).
const char* kMigrate2to3 = R"sql(
CREATE TABLE hour(start INTEGER NOT NULL, series INTEGER NOT NULL, n INTEGER NOT NULL,
                  min INTEGER NOT NULL, max INTEGER NOT NULL, sum INTEGER NOT NULL,
                  peak_first INTEGER, peak_last INTEGER, lim INTEGER, sketch BLOB NOT NULL,
                  ws_min INTEGER, ws_max INTEGER, ws_sum INTEGER, ws_sketch BLOB, peak_rise INTEGER,
                  PRIMARY KEY(start, series)) WITHOUT ROWID;
PRAGMA user_version=3;
)sql";

// Version 3 -> 4: a raw row can stand for a run of unchanged samples (n of
// them, from ts to last). Rows from before stay NULL there: one sample each.
const char* kMigrate3to4 = R"sql(
ALTER TABLE raw ADD COLUMN n INTEGER;
ALTER TABLE raw ADD COLUMN last INTEGER;
PRAGMA user_version=4;
)sql";

// Version 4 -> 5: OOM kills as the kernel reported them (usage at the
// limit when it struck), kept as long as the buckets.
const char* kMigrate4to5 = R"sql(
CREATE TABLE oom_kill(ts INTEGER NOT NULL, path TEXT NOT NULL, victim TEXT NOT NULL, usage INTEGER NOT NULL,
                      lim INTEGER NOT NULL, pid INTEGER NOT NULL, memsw INTEGER NOT NULL,
                      PRIMARY KEY(path, ts, pid)) WITHOUT ROWID;
PRAGMA user_version=5;
)sql";

// kMigrations[i] takes schema i + 1 to i + 2, in its own transaction.
const char* const kMigrations[] = {kMigrate1to2, kMigrate2to3, kMigrate3to4, kMigrate4to5};
static_assert(std::size(kMigrations) == kSchemaVersion - 1, "one migration per schema step");

}  // namespace

Status ensure_schema(Db& db, int64_t bucket_ns, bool readonly) {
  // The first read of the header is where a garbage file shows up
  // ("file is not a database"): that error is returned as is.
  auto app = db.query_int("PRAGMA application_id");
  if (!app) return app.error();
  auto ver = db.query_int("PRAGMA user_version");
  if (!ver) return ver.error();
  if (*app == 0 && *ver == 0) {
    auto tables = db.query_int("SELECT count(*) FROM sqlite_master");
    if (!tables) return tables.error();
    if (*tables != 0) return app_error("not an oomwatch history database (it holds other tables):", db.path());
    if (readonly) return app_error("empty history database (nothing recorded yet):", db.path());
    if (auto st = db.exec("BEGIN IMMEDIATE;" + std::string(kCreate)); !st) return st;
    auto fail = [&](Error e) {
      (void)db.exec("ROLLBACK");
      return e;
    };
    auto ins = db.prepare("INSERT INTO meta VALUES(?, ?)");
    if (!ins) return fail(ins.error());
    // Bound, not spliced into SQL: the literal -9223372036854775808 would parse as a REAL.
    for (auto [k, v] : {std::pair<const char*, int64_t>{"bucket_ns", bucket_ns},
                        {"rolled_until_ns", INT64_MIN},
                        {"raw_since_ns", INT64_MIN}})
      if (auto st = ins->bind(1, std::string_view(k)).bind(2, v).run(); !st) return fail(st.error());
    std::string tail = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                       ";PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";COMMIT;";
    if (auto st = db.exec(tail); !st) return fail(st.error());
    return {};
  }
  if (*app != kApplicationId) return app_error("not an oomwatch history database (application_id differs):", db.path());
  if (*ver > kSchemaVersion)
    return app_error("history database has schema " + std::to_string(*ver) + ", newer than this oomwatch (" +
                         std::to_string(kSchemaVersion) + "); upgrade oomwatch:",
                     db.path());
  // Older schemas are migrated one version step per block, each in its own
  // transaction. A read-only opener (`stats`, `recommend`) cannot migrate.
  if (*ver < kSchemaVersion && readonly)
    return app_error("history database has schema " + std::to_string(*ver) + " from an older oomwatch; start the agent "
                         "(oomwatch run) once to migrate it to " + std::to_string(kSchemaVersion) + ":",
                     db.path());
  for (int64_t v = std::max<int64_t>(*ver, 1); v < kSchemaVersion; ++v) {
    if (auto st = db.exec("BEGIN IMMEDIATE;" + std::string(kMigrations[v - 1]) + "COMMIT;"); !st) {
      (void)db.exec("ROLLBACK");
      return app_error("migrating history database from schema " + std::to_string(v) + " to " +
                           std::to_string(v + 1) + " failed (" + st.error().message() + "):",
                       db.path());
    }
  }
  return {};
}

}  // namespace ow::store
