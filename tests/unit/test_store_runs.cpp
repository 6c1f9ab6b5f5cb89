// Runs in the raw tier: unchanged samples of a series in one bucket are one
// row with a count, and every reader sees the samples it stands for, exactly
// as if each had its own row.

#include <catch2/catch.hpp>

#include "stats/window.hpp"
#include "store/history.hpp"
#include "store/schema.hpp"
#include "util/units.hpp"
#include "test_store_sql.hpp"
#include "test_store_tmp.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;
using namespace ow::store;
using owtest::sql;
using owtest::sql_int;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;  // a bucket start (a multiple of 60 s)

Snapshot at(int64_t sec, uint64_t usage, uint64_t ws = 7) {
  Snapshot s;
  s.ts_ns = kT0 + sec * kSec;
  Sample x;
  x.cgroup = "/a";
  x.cgroup_id = 100;
  x.usage_bytes = usage;
  x.peak_bytes = 1000;
  x.limit_bytes = ow::kUnlimited;
  x.working_set_bytes = ws;
  s.samples.push_back(x);
  return s;
}

// 0..29 s at 500, 30..89 s at 600 (a bucket edge at 60 s), 90..119 s at 500.
std::vector<Snapshot> three_runs() {
  std::vector<Snapshot> v;
  for (int i = 0; i < 120; ++i) v.push_back(at(i, i < 30 || i >= 90 ? 500 : 600));
  return v;
}

std::vector<Sample> flat(const std::vector<Snapshot>& v) {
  std::vector<Sample> out;
  for (const auto& s : v)
    for (auto x : s.samples) {
      x.ts_ns = s.ts_ns;
      out.push_back(x);
    }
  return out;
}
}  // namespace

TEST_CASE("runs: unchanged samples are one row per bucket and read back one by one", "[store][runs]") {
  owtest::TempDir d;
  auto snaps = three_runs();
  {
    auto h = HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
    for (const auto& s : snaps) REQUIRE(h->insert(s).ok());
    // 0..29, 30..59 | 60..89, 90..119: four runs, the edge at 60 s splits one.
    CHECK(sql_int(d / "h.db", "SELECT count(*) FROM raw") == 4);
    auto got = h->raw_samples({}, {});  // this handle writes its open counts first
    REQUIRE(got.ok());
    REQUIRE(got->size() == 120);
    for (size_t i = 0; i < got->size(); ++i) {
      INFO("sample " << i);
      CHECK((*got)[i].ts_ns == kT0 + static_cast<int64_t>(i) * kSec);
      CHECK((*got)[i].usage_bytes == (i < 30 || i >= 90 ? 500u : 600u));
      CHECK((*got)[i].working_set_bytes == 7);
      CHECK((*got)[i].limit_bytes == ow::kUnlimited);
    }
    // A window inside the runs: only the samples in it.
    auto part = h->raw_samples({kT0 + 45 * kSec, kT0 + 64 * kSec}, {});
    REQUIRE(part.ok());
    CHECK(part->size() == 20);
    CHECK(part->front().ts_ns == kT0 + 45 * kSec);
    CHECK(part->back().ts_ns == kT0 + 64 * kSec);
  }
  CHECK(sql_int(d / "h.db", "SELECT sum(coalesce(n, 1)) FROM raw") == 120);
  CHECK(sql_int(d / "h.db", "SELECT last FROM raw WHERE ts = " + std::to_string(kT0 + 30 * kSec)) == kT0 + 59 * kSec);
}

TEST_CASE("runs: window statistics and roll-ups equal those of every sample", "[store][runs]") {
  owtest::TempDir d;
  auto snaps = three_runs();
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  for (const auto& s : snaps) REQUIRE(h->insert(s).ok());
  auto exact = ow::stats::window_stats(flat(snaps), {});
  REQUIRE(exact.ok());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  const auto& a = w->stats.at("/a");
  const auto& e = exact->at("/a");
  CHECK(a.samples == e.samples);
  CHECK(a.samples == 120);
  CHECK(a.avg_bytes == e.avg_bytes);
  CHECK(a.p95_bytes == e.p95_bytes);
  CHECK(a.first_ts_ns == e.first_ts_ns);
  CHECK(a.last_ts_ns == e.last_ts_ns);
  CHECK(a.ws_samples == e.ws_samples);
  CHECK(a.median_bytes == e.median_bytes);
  // Once rolled up (two finished buckets), the buckets count 60 samples each.
  auto rep = h->maintain(kT0 + 200 * kSec);
  REQUIRE(rep.ok());
  CHECK(rep->buckets_written == 2);
  auto b = h->buckets({}, {});
  REQUIRE(b.ok());
  REQUIRE(b->size() == 2);
  CHECK((*b)[0].second.count == 60);
  CHECK((*b)[0].second.sum_bytes == 30u * 500 + 30u * 600);
  CHECK((*b)[1].second.count == 60);
  CHECK((*b)[1].second.min_bytes == 500);
  CHECK((*b)[1].second.max_bytes == 600);
}

TEST_CASE("runs: another reader sees a run's first sample until its count is written", "[store][runs]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  for (int i = 0; i < 10; ++i) REQUIRE(h->insert(at(i, 500)).ok());
  StoreOptions ro;
  ro.readonly = true;
  {
    auto r = HistoryStore::open(d / "h.db", ro);
    REQUIRE(r.ok());
    auto got = r->raw_samples({}, {});
    REQUIRE(got.ok());
    CHECK(got->size() == 1);
  }
  REQUIRE(h->flush().ok());
  auto r = HistoryStore::open(d / "h.db", ro);
  REQUIRE(r.ok());
  auto got = r->raw_samples({}, {});
  REQUIRE(got.ok());
  CHECK(got->size() == 10);
  // The run goes on after its count was written, and the next write counts it all.
  for (int i = 10; i < 20; ++i) REQUIRE(h->insert(at(i, 500)).ok());
  REQUIRE(h->flush().ok());
  got = r->raw_samples({}, {});
  REQUIRE(got.ok());
  CHECK(got->size() == 20);
  CHECK(got->back().ts_ns == kT0 + 19 * kSec);
}

TEST_CASE("runs: counts are written every 10 s, or every three snapshots when they are further apart", "[store][runs]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  StoreOptions ro;
  ro.readonly = true;
  auto seen = [&] {
    auto r = HistoryStore::open(d / "h.db", ro);
    REQUIRE(r.ok());
    auto got = r->raw_samples({}, {});
    REQUIRE(got.ok());
    return got->size();
  };
  // 1 s apart: the count goes out 10 s after the last write (at 0 s).
  for (int i = 0; i <= 9; ++i) REQUIRE(h->insert(at(i, 500)).ok());
  CHECK(seen() == 1);
  REQUIRE(h->insert(at(10, 500)).ok());
  CHECK(seen() == 11);
  // Then 20 s apart (weight 20 each, a stretched interval): not at every
  // snapshot, but 60 s after the last write. The run's bucket ends at 60 s,
  // which writes it anyway.
  auto spaced = [](int sec) {
    auto s = at(sec, 500);
    s.weight = 20;
    return s;
  };
  REQUIRE(h->insert(spaced(30)).ok());
  REQUIRE(h->insert(spaced(50)).ok());
  CHECK(seen() == 11);
  REQUIRE(h->insert(spaced(70)).ok());  // the bucket at 60 s: the first run's count, 11 + 2 x 20
  CHECK(seen() == 51 + 20);
  REQUIRE(h->insert(spaced(90)).ok());
  REQUIRE(h->insert(spaced(110)).ok());
  CHECK(seen() == 71);
  REQUIRE(h->insert(spaced(130)).ok());  // a new bucket again: the run of 70 to 110 s counted
  CHECK(seen() == 51 + 60 + 20);
  // Back to 1 s apart: every 10 s again.
  for (int i = 131; i <= 140; ++i) REQUIRE(h->insert(at(i, 500)).ok());
  CHECK(seen() == 131 + 10);
}

TEST_CASE("runs: any figure that moves, or a recreated cgroup, starts a new row", "[store][runs]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  REQUIRE(h->insert(at(0, 500)).ok());
  REQUIRE(h->insert(at(1, 500, 8)).ok());  // only the working set moved
  auto s = at(2, 500, 8);
  s.samples[0].ev_oom_kill = 1;  // only a counter moved
  REQUIRE(h->insert(s).ok());
  auto r = at(3, 500, 8);
  r.samples[0].ev_oom_kill = 1;
  r.samples[0].cgroup_id = 101;  // the same path, a new cgroup: a new series
  REQUIRE(h->insert(r).ok());
  CHECK(sql_int(d / "h.db", "SELECT count(*) FROM raw") == 4);
  // The clock going back is a new row too, never a run that ends before it starts.
  REQUIRE(h->insert(at(3, 500, 8)).ok());
  REQUIRE(h->insert(at(2, 500, 8)).ok());
  auto got = h->raw_samples({}, {});
  REQUIRE(got.ok());
  CHECK(got->size() == 5);  // (2 s, id 100) was replaced: the same (ts, series) keeps the last
}

TEST_CASE("runs: a corrupt run row is an error naming the file, not a loop", "[store][runs]") {
  owtest::TempDir d;
  {
    auto h = HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
    REQUIRE(h->insert(at(0, 500)).ok());
  }
  for (const char* bad : {"UPDATE raw SET n = 0", "UPDATE raw SET n = 4611686018427387904, last = ts + 5",
                          "UPDATE raw SET n = 3, last = ts - 1"}) {
    INFO(bad);
    sql(d / "h.db", bad);
    StoreOptions ro;
    ro.readonly = true;
    auto h = HistoryStore::open(d / "h.db", ro);
    REQUIRE(h.ok());
    auto got = h->raw_samples({}, {});
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().message().find("corrupt raw row") != std::string::npos);
    CHECK(got.error().message().find("h.db") != std::string::npos);
    auto w = h->window_stats({}, {});
    REQUIRE_FALSE(w.ok());
  }
}

TEST_CASE("runs: a schema 3 file gets the run columns and reads as before", "[store][runs]") {
  owtest::TempDir d;
  {
    auto h = HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
    for (int i = 0; i < 5; ++i) REQUIRE(h->insert(at(i, 500u + i)).ok());
  }
  sql(d / "h.db", "DROP TABLE oom_kill; ALTER TABLE raw DROP COLUMN n; ALTER TABLE raw DROP COLUMN last; "
                  "PRAGMA user_version=3;");
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  CHECK(sql_int(d / "h.db", "PRAGMA user_version") == kSchemaVersion);
  CHECK(sql_int(d / "h.db", "SELECT count(*) FROM raw WHERE n IS NULL AND last IS NULL") == 5);
  for (int i = 5; i < 10; ++i) REQUIRE(h->insert(at(i, 600)).ok());
  auto got = h->raw_samples({}, {});
  REQUIRE(got.ok());
  CHECK(got->size() == 10);
}
