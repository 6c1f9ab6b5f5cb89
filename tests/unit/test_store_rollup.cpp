// Downsampling and retention: raw samples roll up into 1-minute buckets, the
// raw tier keeps an hour, buckets keep a week, and windows over the buckets
// keep exact min/max/avg/count and median/p95 within 1 %.
#include <catch2/catch.hpp>

#include <cmath>

#include "stats/window.hpp"
#include "store/history.hpp"
#include "test_store_tmp.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;
using namespace ow::store;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;  // minute-aligned

// Three hours at 1 s of two cgroups: a sawtooth and a noisy plateau.
std::vector<Snapshot> three_hours(std::vector<Sample>& flat) {
  std::vector<Snapshot> out;
  for (int i = 0; i < 3 * 3600; ++i) {
    Snapshot s;
    s.ts_ns = kT0 + i * kSec;
    for (int c = 0; c < 2; ++c) {
      Sample x;
      x.ts_ns = s.ts_ns;
      x.cgroup = c ? "/b" : "/a";
      x.cgroup_id = 10 + c;
      x.usage_bytes = c ? 300'000'000ull + (i * 7919ull % 10'000'000) : 100'000'000ull + (i % 600) * 500'000ull;
      s.samples.push_back(x);
      flat.push_back(x);
    }
    out.push_back(std::move(s));
  }
  return out;
}

double rel(uint64_t a, uint64_t b) { return std::fabs(double(a) - double(b)) / double(b); }
}  // namespace

TEST_CASE("roll-up keeps an exact hour of raw samples and buckets for the rest", "[store][rollup]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<Sample> flat;
  REQUIRE(h->insert(three_hours(flat)).ok());
  int64_t now = kT0 + 3 * 3600 * kSec;
  auto rep = h->maintain(now);  // one pass over a 3-hour backlog
  REQUIRE(rep.ok());
  CHECK(rep->buckets_written == 2 * 179);  // minutes finished 5 s before now: all but the last
  CHECK(rep->raw_deleted == 2 * 2 * 3600);  // the two oldest hours
  auto raw = h->raw_samples({}, {});
  REQUIRE(raw.ok());
  CHECK(raw->size() == 2 * 3600);
  CHECK(raw->front().ts_ns == kT0 + 2 * 3600 * kSec);
  auto again = h->maintain(now);  // idempotent: nothing more to do
  REQUIRE(again.ok());
  CHECK((again->buckets_written == 0 && again->raw_deleted == 0 && again->buckets_deleted == 0));

  SECTION("the whole span: exact min/max/avg/count, quantiles within 1 %") {
    auto exact = ow::stats::window_stats(flat, {});
    REQUIRE(exact.ok());
    auto w = h->window_stats({}, {});
    REQUIRE(w.ok());
    CHECK_FALSE(w->exact);
    for (const char* cg : {"/a", "/b"}) {
      INFO(cg);
      const auto &e = exact->at(cg), &g = w->stats.at(cg);
      CHECK(g.samples == e.samples);
      CHECK(g.min_bytes == e.min_bytes);
      CHECK(g.max_bytes == e.max_bytes);
      CHECK(g.avg_bytes == e.avg_bytes);
      CHECK(rel(g.median_bytes, e.median_bytes) <= 0.01);
      CHECK(rel(g.p95_bytes, e.p95_bytes) <= 0.01);
    }
  }
  SECTION("a window inside the raw hour is exact and equals the pure computation") {
    ow::stats::TimeRange r{kT0 + 2 * 3600 * kSec + 17 * kSec, kT0 + 3 * 3600 * kSec};
    auto exact = ow::stats::window_stats(flat, r);
    auto w = h->window_stats(r, {"/a"});
    REQUIRE((exact.ok() && w.ok()));
    CHECK(w->exact);
    const auto &e = exact->at("/a"), &g = w->stats.at("/a");
    CHECK((g.samples == e.samples && g.median_bytes == e.median_bytes && g.p95_bytes == e.p95_bytes));
  }
  SECTION("old data is one-minute granular at the window's edges") {
    // From 00:10:30: the bucket of 00:10 starts before the window, so it is out;
    // the one of 00:11 is in, whole.
    auto w = h->window_stats({kT0 + 630 * kSec, kT0 + 660 * kSec}, {"/a"});
    REQUIRE(w.ok());
    CHECK(w->stats.at("/a").samples == 60);
  }
}

TEST_CASE("retention drops buckets older than a week", "[store][rollup]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<Sample> flat;
  REQUIRE(h->insert(three_hours(flat)).ok());
  REQUIRE(h->maintain(kT0 + 3 * 3600 * kSec).ok());
  auto later = h->maintain(kT0 + 7 * 86400 * kSec + 3600 * kSec + 30 * kSec);  // a week after the first hour ended
  REQUIRE(later.ok());
  CHECK(later->buckets_deleted == 2 * 60);
  auto rest = h->buckets({}, {});
  REQUIRE(rest.ok());
  CHECK(rest->front().second.start_ns == kT0 + 3600 * kSec);
  auto gone = h->maintain(kT0 + 30 * 86400 * kSec);
  REQUIRE(gone.ok());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  CHECK(w->stats.empty());
}

TEST_CASE("a watermark rise between two buckets still raises the max", "[store][rollup]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  for (int i = 0; i < 180; ++i) {
    Snapshot s;
    s.ts_ns = kT0 + i * kSec;
    Sample x;
    x.cgroup = "/a";
    x.cgroup_id = 5;
    x.usage_bytes = 100 << 20;
    x.peak_bytes = i < 60 ? 120 << 20 : 700 << 20;  // a spike between 00:00:59 and 00:01:00
    s.samples.push_back(x);
    REQUIRE(h->insert(s).ok());
  }
  REQUIRE(h->maintain(kT0 + 2 * 3600 * kSec).ok());  // all raw gone: buckets only
  CHECK(h->raw_samples({}, {})->empty());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  CHECK(w->stats.at("/a").max_bytes == 700u << 20);
  CHECK(w->stats.at("/a").median_bytes == 100u << 20);
  auto b = h->buckets({}, {});
  REQUIRE(b.ok());
  REQUIRE(b->size() == 3);
  CHECK((*b)[1].second.peak_first_bytes == 700u << 20);
  CHECK((*b)[0].second.count == 60);
}
