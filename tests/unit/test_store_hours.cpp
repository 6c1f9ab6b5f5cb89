// The hour tier: hour rows rolled up from the minute buckets, so a window of a
// day reads 24 rows per cgroup instead of 1,440, with the same figures a
// window over the buckets gives (count, min, max, avg exact; median and p95
// within 1 %), the edges of a window still from buckets, and older files
// migrated.
#include <catch2/catch.hpp>

#include <malloc.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "stats/window.hpp"
#include "store/history.hpp"
#include "test_store_sql.hpp"
#include "test_store_tmp.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;
using namespace ow::store;
using owtest::sql;
using owtest::sql_int;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;  // hour-aligned
constexpr int64_t kHour = 3600 * kSec;

// Five hours at 1 s of two cgroups (a sawtooth, a noisy plateau); /a's
// watermark jumps between two buckets at 01:20:00 to a value no sample saw.
std::vector<Snapshot> five_hours(std::vector<Sample>& flat) {
  std::vector<Snapshot> out;
  for (int i = 0; i < 5 * 3600; ++i) {
    Snapshot s;
    s.ts_ns = kT0 + i * kSec;
    for (int c = 0; c < 2; ++c) {
      Sample x;
      x.ts_ns = s.ts_ns;
      x.cgroup = c ? "/b" : "/a";
      x.cgroup_id = 10 + c;
      x.usage_bytes = c ? 300'000'000ull + (i * 7919ull % 10'000'000) : 100'000'000ull + (i % 600) * 500'000ull;
      x.working_set_bytes = x.usage_bytes - x.usage_bytes / 4;
      x.peak_bytes = c ? 0 : (i < 4800 ? 400'000'000ull : 900'000'000ull);
      s.samples.push_back(x);
      flat.push_back(x);
    }
    out.push_back(std::move(s));
  }
  return out;
}

double rel(uint64_t a, uint64_t b) { return std::fabs(double(a) - double(b)) / double(b); }

void same_figures(const ow::stats::WindowStats& g, const ow::stats::WindowStats& e) {
  CHECK(g.samples == e.samples);
  CHECK(g.min_bytes == e.min_bytes);
  CHECK(g.max_bytes == e.max_bytes);
  CHECK(g.avg_bytes == e.avg_bytes);
  CHECK(rel(g.median_bytes, e.median_bytes) <= 0.01);
  CHECK(rel(g.p95_bytes, e.p95_bytes) <= 0.01);
  CHECK(g.ws_samples == e.ws_samples);
  CHECK(g.ws_max_bytes == e.ws_max_bytes);
  CHECK(g.ws_avg_bytes == e.ws_avg_bytes);
  CHECK(rel(g.ws_p95_bytes, e.ws_p95_bytes) <= 0.01);
}
}  // namespace

TEST_CASE("hour rows: a long window reads them and gives the buckets' figures", "[store][hours]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<Sample> flat;
  REQUIRE(h->insert(five_hours(flat)).ok());
  auto rep = h->maintain(kT0 + 5 * kHour);
  REQUIRE(rep.ok());
  CHECK(rep->hours_written == 2 * 4);  // the last hour's last minute is not rolled up yet
  CHECK(sql_int(d / "h.db", "SELECT count(*) FROM hour") == 8);
  auto again = h->maintain(kT0 + 5 * kHour);
  REQUIRE(again.ok());
  CHECK(again->hours_written == 0);

  SECTION("the whole span") {
    auto exact = ow::stats::window_stats(flat, {});
    auto w = h->window_stats({}, {});
    REQUIRE((exact.ok() && w.ok()));
    CHECK_FALSE(w->exact);
    CHECK(w->hour_rows == 8);                  // hours 0-3
    CHECK(w->bucket_rows == 2 * 59);            // hour 4 but its last minute (raw)
    CHECK(w->stats.at("/a").max_bytes == 900'000'000u);  // the rise between two buckets, inside hour 1
    for (const char* cg : {"/a", "/b"}) {
      INFO(cg);
      same_figures(w->stats.at(cg), exact->at(cg));
    }
  }
  SECTION("a window starting and ending inside hours: whole hours from the hour tier, edges from buckets") {
    ow::stats::TimeRange r{kT0 + 30 * 60 * kSec, kT0 + 3 * kHour + 10 * 60 * kSec - 1};
    auto exact = ow::stats::window_stats(flat, r);
    auto w = h->window_stats(r, {"/b"});
    REQUIRE((exact.ok() && w.ok()));
    CHECK(w->hour_rows == 2 * 2);          // hours 1 and 2 (both cgroups' rows are read, /b's used)
    CHECK(w->bucket_rows == 2 * (30 + 10));
    same_figures(w->stats.at("/b"), exact->at("/b"));
    CHECK(w->stats.at("/b").first_ts_ns == kT0 + 30 * 60 * kSec);
  }
  SECTION("a window inside one hour uses buckets only") {
    auto w = h->window_stats({kT0 + kHour + 60 * kSec, kT0 + kHour + 30 * 60 * kSec}, {});
    REQUIRE(w.ok());
    CHECK(w->hour_rows == 0);
    CHECK(w->stats.at("/a").samples == 30 * 60);
  }
}

TEST_CASE("hour rows: retention drops them with the buckets", "[store][hours]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<Sample> flat;
  REQUIRE(h->insert(five_hours(flat)).ok());
  REQUIRE(h->maintain(kT0 + 5 * kHour).ok());
  REQUIRE(h->maintain(kT0 + 7 * 86400 * kSec + 2 * kHour + 30 * kSec).ok());  // a week after hour 1 ended
  // Hours 0 and 1 gone; 2 and 3 left, and 4 rolled up now that its last minute is.
  CHECK(sql_int(d / "h.db", "SELECT count(*) FROM hour") == 2 * 3);
}

TEST_CASE("hour rows: a schema 2 file gets the tier and fills it from its buckets", "[store][hours]") {
  owtest::TempDir d;
  std::vector<Sample> flat;
  {
    auto h = HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
    REQUIRE(h->insert(five_hours(flat)).ok());
  }
  {  // what an oomwatch of schema 2 left: no hour table
    sql(d / "h.db", "DROP TABLE hour; DROP TABLE oom_kill; ALTER TABLE raw DROP COLUMN n; ALTER TABLE raw DROP COLUMN last; "
                    "PRAGMA user_version=2;");
  }
  ow::store::StoreOptions ro;
  ro.readonly = true;
  auto refused = HistoryStore::open(d / "h.db", ro);  // a reader cannot migrate
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("schema 2") != std::string::npos);
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  CHECK(sql_int(d / "h.db", "SELECT count(*) FROM hour") == 0);
  auto rep = h->maintain(kT0 + 5 * kHour);
  REQUIRE(rep.ok());
  CHECK(rep->hours_written == 8);
  auto exact = ow::stats::window_stats(flat, {});
  auto w = h->window_stats({}, {});
  REQUIRE((exact.ok() && w.ok()));
  CHECK(w->hour_rows == 8);
  same_figures(w->stats.at("/a"), exact->at("/a"));
}

namespace {
// Under AddressSanitizer freed memory waits in a quarantine and every byte
// has shadow: a peak RSS says nothing about the code's own footprint.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

uint64_t status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10);
  return 0;
}
}  // namespace

TEST_CASE("hour rows: an hour of 3,000 short-lived cgroups is rolled up a batch of series at a time", "[store][hours]") {
  // A node's churn: 3,000 cgroups in one hour, each alive for two minutes,
  // growing from nothing to 64 MiB (sketches a thousand bins wide). Every
  // series gets its hour row, with the figures of its samples, and the
  // roll-up holds one batch of series (512) at a time, not the hour's all:
  // before it took 28 MiB more here (5 after), 15 MB in the soak's hour.
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  constexpr int kCgroups = 3000, kEvery = 10;  // a sample every 10 s
  std::vector<Snapshot> snaps;
  std::vector<Sample> flat;
  for (int t = 0; t < 3600; t += kEvery) {
    Snapshot s;
    s.ts_ns = kT0 + t * kSec;
    for (int c = 0; c < kCgroups; ++c) {
      int born = c * 3600 / kCgroups * 58 / 60;  // all born within the hour's first 58 minutes
      if (t < born || t >= born + 120) continue;
      Sample x;
      x.ts_ns = s.ts_ns;
      x.cgroup = "/churn/c" + std::to_string(c);
      x.cgroup_id = 1000 + c;
      x.usage_bytes = uint64_t(t - born) * (64ull << 20) / 120;
      x.working_set_bytes = x.usage_bytes;
      s.samples.push_back(x);
      if (c % 500 == 7) flat.push_back(x);
    }
    snaps.push_back(std::move(s));
  }
  REQUIRE(h->insert(snaps).ok());
  snaps.clear();
  REQUIRE(h->maintain(kT0 + 59 * 60 * kSec).ok());  // most minutes into buckets, the hour not yet
  ::malloc_trim(0);
  const uint64_t before = status_kib("VmRSS:");
  std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
  auto rep = h->maintain(kT0 + 2 * kHour);
  const uint64_t peak = status_kib("VmHWM:");
  REQUIRE(rep.ok());
  CHECK(rep->hours_written == kCgroups);
  CHECK(sql_int(d / "h.db", "SELECT count(*) FROM hour") == kCgroups);
  INFO("roll-up peak: +" << (peak - before) / 1024 << " MiB");
  if (!kAsan) CHECK(peak - before < 12 * 1024);  // the figures below are checked either way
  // The figures of a few series, from hour rows, match their samples.
  auto exact = ow::stats::window_stats(flat, {});
  auto w = h->window_stats({kT0, kT0 + kHour - 1}, {});
  REQUIRE((exact.ok() && w.ok()));
  CHECK(w->hour_rows == uint64_t(kCgroups));
  for (const auto& [cg, e] : *exact) {
    INFO(cg);
    same_figures(w->stats.at(cg), e);
  }
}
