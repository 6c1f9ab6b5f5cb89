// The backtest engine on series small enough to score by hand.
#include <catch2/catch.hpp>

#include <vector>

#include "advisor/backtest_gather.hpp"
#include "recommend/backtest.hpp"
#include "recommend/backtest_report.hpp"
#include "util/units.hpp"

using namespace ow::recommend;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kHour = 3600 * kSec;

// Hourly samples from t = 0, in MiB.
BtSeries hourly(std::vector<uint64_t> mib, std::optional<uint64_t> limit_mib) {
  BtSeries s;
  s.name = "w";
  for (size_t i = 0; i < mib.size(); ++i) s.points.push_back({static_cast<int64_t>(i) * kHour, mib[i] * kMi});
  if (limit_mib) s.limit_bytes = *limit_mib * kMi;
  return s;
}

unsigned __int128 mib_hours(uint64_t mib) { return static_cast<unsigned __int128>(mib * kMi) * static_cast<uint64_t>(kHour); }
}  // namespace

TEST_CASE("backtest: a static limit under a sawtooth counts each run above it once", "[recommend][backtest]") {
  // Steps at 1h..8h; the sample at 0h is the warm-up. Against 200Mi the
  // scored samples 100 300 100 300 300 100 300 100 make three runs above.
  auto r = backtest(hourly({100, 100, 300, 100, 300, 300, 100, 300, 100}, 200));
  REQUIRE(r.ok());
  CHECK(r->steps.size() == 8);
  CHECK(r->fixed.oom_episodes == 3);
  CHECK(r->fixed.changes == 0);
  CHECK(r->fixed.near_ns == 4 * kHour);               // 2h, 4h, 5h, 7h are at or above 180Mi, an hour each
  CHECK(r->fixed.waste_byte_ns == mib_hours(300));    // 1h, 3h, 6h hold 100Mi under the limit; 8h is last, holds nothing
  CHECK(r->fixed.waste_gib_hours() == Approx(300.0 / 1024));
  SECTION("a rising series: the restarts run into the limit again, one episode") {
    auto q = backtest(hourly({100, 150, 250, 300, 350}, 200));
    REQUIRE(q.ok());
    CHECK(q->fixed.oom_episodes == 1);
  }
  SECTION("a recorded kill at the limit counts, even between samples under it") {
    auto s = hourly({100, 100, 100, 100, 100}, 200);
    s.kills.push_back({2 * kHour + kHour / 2, 200 * kMi});
    auto q = backtest(s);
    REQUIRE(q.ok());
    CHECK(q->fixed.oom_episodes == 1);
    CHECK(q->recorded_kills == 1);
  }
}

TEST_CASE("backtest: the rules change at every step of a doubling series", "[recommend][backtest]") {
  // Windows of one hour hold only the previous sample: avg = p95 = max = ws,
  // low confidence (covered 0), so request = ws × 1.50 and limit = request × 1.50.
  BacktestOptions o;
  o.window_ns = o.short_window_ns = kHour;
  auto r = backtest(hourly({64, 128, 256, 512, 1024}, 4096), o);
  REQUIRE(r.ok());
  REQUIRE(r->steps.size() == 4);
  uint64_t want_limit[] = {144, 288, 576, 1152};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(r->steps[i].rules.changed);
    CHECK(r->steps[i].rules.limit_bytes == want_limit[i] * kMi);
  }
  CHECK(r->rules.changes == 4);
  CHECK(r->rules.oom_episodes == 0);
  CHECK(r->rules.near_ns == 0);                          // 128/144, 256/288, 512/576 are under 90 %
  CHECK(r->rules.waste_byte_ns == mib_hours(16 + 32 + 64));
  CHECK(r->rules.first_limit_bytes == 144 * kMi);
  CHECK(r->rules.last_limit_bytes == 1152 * kMi);
  size_t vpa_changed = 0;
  for (const auto& st : r->steps) vpa_changed += st.vpa.changed;
  CHECK(r->vpa.changes == vpa_changed);
  CHECK(r->fixed.changes == 0);
}

TEST_CASE("backtest: VPA moves to its target only outside its bounds, the limit in proportion", "[recommend][backtest]") {
  BtSeries s;
  s.name = "flat";
  for (int64_t t = 0; t <= 4 * 24 * kHour; t += 600 * kSec) s.points.push_back({t, 100 * kMi});
  s.request_bytes = 4 * kGi;
  s.limit_bytes = 8 * kGi;
  auto r = backtest(s);
  REQUIRE(r.ok());
  REQUIRE(r->vpa.changes >= 1);
  size_t changed = 0;
  for (const auto& st : r->steps)
    if (st.vpa.changed) {
      ++changed;
      REQUIRE(st.vpa.request_bytes);
      CHECK(st.vpa.limit_bytes == *st.vpa.request_bytes * 2);  // 8Gi/4Gi kept
    }
  CHECK(changed == r->vpa.changes);
  CHECK(r->vpa.oom_episodes == 0);
}

TEST_CASE("backtest: no look-ahead, a decision at step k ignores the data after it", "[recommend][backtest]") {
  BtSeries s;
  s.name = "w";
  s.limit_bytes = 512 * kMi;
  for (int64_t i = 0; i <= 12 * 6; ++i)  // 12 h at 10 min, a wave between 100 and 300 Mi
    s.points.push_back({i * 600 * kSec, (100 + static_cast<uint64_t>((i * 37) % 200)) * kMi});
  BacktestOptions o;
  o.window_ns = 4 * kHour;
  auto a = backtest(s, o);
  REQUIRE(a.ok());
  const int64_t k_ts = 6 * kHour;  // the 6th step
  BtSeries changed = s;
  for (auto& p : changed.points)
    if (p.ts_ns >= k_ts) p.ws_bytes = 2 * kGi;
  auto b = backtest(changed, o);
  REQUIRE(b.ok());
  REQUIRE(a->steps.size() == b->steps.size());
  for (size_t i = 0; i < a->steps.size(); ++i) {
    if (a->steps[i].ts_ns > k_ts) break;
    INFO("step at " << a->steps[i].ts_ns / kHour << " h");
    CHECK(a->steps[i].rules.limit_bytes == b->steps[i].rules.limit_bytes);
    CHECK(a->steps[i].rules.request_bytes == b->steps[i].rules.request_bytes);
    CHECK(a->steps[i].vpa.limit_bytes == b->steps[i].vpa.limit_bytes);
    CHECK(a->steps[i].vpa.request_bytes == b->steps[i].vpa.request_bytes);
  }
  // The data after k did change what came later (the check above can fail).
  CHECK(b->fixed.oom_episodes > a->fixed.oom_episodes);
  CHECK(b->rules.last_limit_bytes != a->rules.last_limit_bytes);
}

TEST_CASE("backtest: bad series and options are errors", "[recommend][backtest]") {
  CHECK_FALSE(backtest(hourly({}, 200)).ok());
  auto short_one = backtest(hourly({100}, 200));
  REQUIRE_FALSE(short_one.ok());
  CHECK_THAT(short_one.error().what, Catch::Contains("less than one step"));
  auto s = hourly({100, 200, 300}, 400);
  std::swap(s.points[0], s.points[2]);
  CHECK_FALSE(backtest(s).ok());
  BacktestOptions o;
  o.step_ns = 0;
  CHECK_FALSE(backtest(hourly({100, 100}, 200), o).ok());
  o = {};
  o.near_pm = 0;
  CHECK_FALSE(check_backtest_options(o).empty());
  o = {};
  o.step_ns = 1;
  auto many = backtest(hourly({100, 100}, 200), o);
  REQUIRE_FALSE(many.ok());
  CHECK_THAT(many.error().what, Catch::Contains("take a longer step"));
  // Steps and windows near the ends of time saturate instead of wrapping.
  BtSeries far;
  far.name = "far";
  far.limit_bytes = 200 * kMi;
  far.points = {{0, 100 * kMi}, {INT64_MAX - 1, 300 * kMi}};
  o = {};
  o.step_ns = INT64_MAX - 1;
  o.window_ns = INT64_MAX;
  auto f = backtest(far, o);
  REQUIRE(f.ok());
  CHECK(f->steps.size() == 1);
  CHECK(f->fixed.oom_episodes == 1);
}

TEST_CASE("backtest report: one table per workload and a total", "[recommend][backtest]") {
  auto r = backtest(hourly({100, 100, 300, 100, 300, 300, 100, 300, 100}, 200));
  REQUIRE(r.ok());
  std::vector<BacktestReport> rs{{"w", "trace w.csv", kHour, *r}, {"v", "trace v.csv", kHour, *r}};
  auto t = backtests_table(rs);
  CHECK_THAT(t, Catch::Contains("w (trace w.csv): 8 step(s) of 1h"));
  CHECK_THAT(t, Catch::Contains("total (2 workload(s)):"));
  CHECK_THAT(t, Catch::Contains("  static      6      480.0        0.586        0\n"));  // twice the one workload
  auto j = backtests_json(rs);
  CHECK_THAT(j, Catch::Contains("\"static\":{\"oom_episodes\":3,\"near_limit_minutes\":240.0,\"waste_gib_hours\":0.293,\"changes\":0,"));
  CHECK_THAT(j, Catch::Contains("\"total\":{\"workloads\":2,"));
}

TEST_CASE("backtest series from a trace's samples: kills from the counter, the last limit", "[recommend][backtest]") {
  auto sample = [](int64_t ts, const char* cg, uint64_t id, uint64_t ws_mib, uint64_t limit, uint64_t kills) {
    ow::sampler::Sample s;
    s.ts_ns = ts;
    s.cgroup = cg;
    s.cgroup_id = id;
    s.usage_bytes = (ws_mib + 1) * kMi;
    s.working_set_bytes = ws_mib * kMi;
    s.limit_bytes = limit;
    s.ev_oom_kill = kills;
    return s;
  };
  std::vector<ow::sampler::Sample> in{
      sample(2 * kHour, "/a", 1, 120, 128 * kMi, 2),  // out of order: sorted by time
      sample(0, "/a", 1, 100, 128 * kMi, 0),
      sample(kHour, "/b", 2, 50, ow::kUnlimited, 0),
      sample(3 * kHour, "/a", 3, 10, 256 * kMi, 0),   // a new cgroup at the path: its counter restarts
      sample(2 * kHour, "/b", 2, 60, ow::kUnlimited, 0),
  };
  auto out = ow::advisor::series_from_samples(in, "t", "t.csv");
  REQUIRE(out.size() == 2);
  const auto& a = out[0].series;
  CHECK(a.name == "t:/a");
  REQUIRE(a.points.size() == 3);
  CHECK(a.points[1].ws_bytes == 120 * kMi);
  REQUIRE(a.kills.size() == 2);                       // the counter rose by 2
  CHECK(a.kills[0].ts_ns == 2 * kHour);
  CHECK(a.kills[0].used_bytes == 128 * kMi);          // at the limit (usage 121Mi under it)
  CHECK(a.limit_bytes == 256 * kMi);                  // the last sample's
  CHECK_FALSE(a.request_bytes);
  const auto& b = out[1].series;
  CHECK(b.name == "t:/b");
  CHECK(b.kills.empty());
  CHECK_FALSE(b.limit_bytes);                         // unlimited: none
  CHECK(ow::advisor::series_from_samples({in[2]}, "t", "t.csv")[0].series.name == "t");  // one cgroup: the file's name
}
