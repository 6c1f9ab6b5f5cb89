// The working set in the history store: raw and bucket tiers keep it, windows
// report its avg/p95/max beside usage, and a schema-1 database (no working
// set) is migrated on open with its old rows marked "not recorded".
#include <catch2/catch.hpp>

#include <cmath>

#include "stats/window.hpp"
#include "store/history.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "test_store_tmp.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;
using namespace ow::store;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;
constexpr uint64_t kMiB = 1 << 20;

Snapshot one(int64_t sec, uint64_t usage, uint64_t ws) {
  Snapshot s;
  s.ts_ns = kT0 + sec * kSec;
  Sample x;
  x.cgroup = "/a";
  x.cgroup_id = 9;
  x.usage_bytes = usage;
  x.working_set_bytes = ws;
  x.inactive_file_bytes = usage - ws;
  s.samples.push_back(x);
  return s;
}

double rel(uint64_t a, uint64_t b) { return std::fabs(double(a) - double(b)) / double(b); }
}  // namespace

TEST_CASE("working set: raw tier round trip and exact window figures", "[store][ws]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  // ws 1..20 MiB, usage 10 MiB above it.
  for (int i = 1; i <= 20; ++i) REQUIRE(h->insert(one(i, (i + 10) * kMiB, i * kMiB)).ok());
  auto raw = h->raw_samples({}, {});
  REQUIRE(raw.ok());
  REQUIRE(raw->size() == 20);
  CHECK(raw->front().working_set_bytes == kMiB);
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  const auto& s = w->stats.at("/a");
  CHECK(s.ws_samples == 20);
  CHECK(s.ws_max_bytes == 20 * kMiB);
  CHECK(s.ws_min_bytes == kMiB);
  CHECK(s.ws_p95_bytes == 19 * kMiB);  // nearest rank 19 of 20
  CHECK(s.ws_avg_bytes == 10 * kMiB + kMiB / 2);
  CHECK(s.max_bytes == 30 * kMiB);     // usage unchanged beside it
}

TEST_CASE("working set: buckets keep it once raw samples age out", "[store][ws]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<Snapshot> snaps;
  for (int i = 0; i < 600; ++i) snaps.push_back(one(i, 200 * kMiB, (100 + i % 50) * kMiB));
  REQUIRE(h->insert(snaps).ok());
  REQUIRE(h->maintain(kT0 + 3 * 3600 * kSec).ok());
  REQUIRE(h->raw_samples({}, {})->empty());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  CHECK_FALSE(w->exact);
  const auto& s = w->stats.at("/a");
  CHECK(s.ws_samples == 600);
  CHECK(s.ws_max_bytes == 149 * kMiB);
  CHECK(s.ws_min_bytes == 100 * kMiB);
  CHECK(s.ws_avg_bytes == 124 * kMiB + kMiB / 2);
  CHECK(rel(s.ws_p95_bytes, 147 * kMiB) <= 0.01);  // within the sketch's 1 %
  auto b = h->buckets({}, {});
  REQUIRE(b.ok());
  REQUIRE(b->size() == 10);
  CHECK(b->front().second.has_ws);
  CHECK(b->front().second.ws_max_bytes == 149 * kMiB);
}

TEST_CASE("a schema-1 database is migrated; read-only openers say how", "[store][ws]") {
  owtest::TempDir d;
  std::string path = d / "old.db";
  {
    auto db = Db::open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->exec(R"sql(
CREATE TABLE series(id INTEGER PRIMARY KEY, path TEXT NOT NULL, cgroup_id INTEGER NOT NULL, UNIQUE(path, cgroup_id));
CREATE TABLE raw(ts INTEGER NOT NULL, series INTEGER NOT NULL, usage INTEGER NOT NULL,
                 lim INTEGER, peak INTEGER, high INTEGER, swap INTEGER, failcnt INTEGER,
                 ev_low INTEGER, ev_high INTEGER, ev_max INTEGER, ev_oom INTEGER, ev_oom_kill INTEGER,
                 PRIMARY KEY(ts, series)) WITHOUT ROWID;
CREATE TABLE bucket(start INTEGER NOT NULL, series INTEGER NOT NULL, n INTEGER NOT NULL,
                    min INTEGER NOT NULL, max INTEGER NOT NULL, sum INTEGER NOT NULL,
                    peak_first INTEGER, peak_last INTEGER, lim INTEGER, sketch BLOB NOT NULL,
                    PRIMARY KEY(start, series)) WITHOUT ROWID;
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES('bucket_ns', 60000000000);
INSERT INTO meta VALUES('rolled_until_ns', -9223372036854775807 - 1);
INSERT INTO meta VALUES('raw_since_ns', -9223372036854775807 - 1);
INSERT INTO series VALUES(1, '/a', 9);
INSERT INTO raw VALUES()sql" + std::to_string(kT0) + R"sql(, 1, 52428800, -1, 0, -1, 0, 0, 0, 0, 0, 0, 0);
PRAGMA application_id=1869573495; PRAGMA user_version=1;)sql")
                .ok());
  }
  StoreOptions ro;
  ro.readonly = true;
  auto r = HistoryStore::open(path, ro);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("schema 1 from an older oomwatch; start the agent (oomwatch run) once") !=
        std::string::npos);

  auto h = HistoryStore::open(path);
  INFO((h.ok() ? std::string() : h.error().message()));
  REQUIRE(h.ok());
  REQUIRE(h->insert(one(1, 60 * kMiB, 40 * kMiB)).ok());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  const auto& s = w->stats.at("/a");
  CHECK(s.samples == 2);
  CHECK(s.ws_samples == 1);  // the old row has no working set: not counted as 0
  CHECK(s.ws_max_bytes == 40 * kMiB);
  CHECK(s.ws_min_bytes == 40 * kMiB);
  // Rolled up, the bucket holding the old row has no working-set summary.
  REQUIRE(h->maintain(kT0 + 3 * 3600 * kSec).ok());
  auto b = h->buckets({}, {});
  REQUIRE(b.ok());
  REQUIRE(b->size() == 1);
  CHECK_FALSE(b->front().second.has_ws);
  auto again = HistoryStore::open(path, ro);  // now schema 2: read-only works
  REQUIRE(again.ok());
  auto db = Db::open(path, true);
  REQUIRE(db.ok());
  CHECK(*db->query_int("PRAGMA user_version") == kSchemaVersion);
}
