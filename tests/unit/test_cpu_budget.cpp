// The agent's CPU budget: the pure controller on literal figures, the flag
// and config key's values, and the history's time weighting of snapshots
// taken at a stretched interval (Snapshot::weight).
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "policy/cpu_budget.hpp"
#include "store/history.hpp"
#include "util/units.hpp"
#include "test_store_tmp.hpp"

using namespace ow;
using policy::CpuBudget;
using policy::next_interval;

namespace {
constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kS;  // a bucket start (a multiple of 60 s)
const CpuBudget kOnePct{0.01, kS, 60 * kS};
}  // namespace

TEST_CASE("cpu budget: over the budget the interval stretches so the same work costs 80 % of it", "[unit][budget]") {
  // 2.2 % at 1 s: 1 s x 2.2 / 0.8 = 2.75 s, rounded up to whole base intervals.
  CHECK(next_interval(kOnePct, 0.022, kS) == 3 * kS);
  // Just over: at least one base interval more.
  CHECK(next_interval(kOnePct, 0.0101, kS) == 2 * kS);
  CHECK(next_interval(kOnePct, 0.0101, 10 * kS) == 13 * kS);
  // Never past the ceiling, however far over.
  CHECK(next_interval(kOnePct, 5.0, kS) == 60 * kS);
  CHECK(next_interval(kOnePct, 0.02, 60 * kS) == 60 * kS);
  // Whole multiples of a base that is not one second.
  CpuBudget b{0.01, 250'000'000, 60 * kS};
  CHECK(next_interval(b, 0.02, 250'000'000) == 750'000'000);
}

TEST_CASE("cpu budget: with clear room it shortens, at most by half, never below the base", "[unit][budget]") {
  // 0.2 % at 10 s: the same work at 2.5 s would be 0.8 %, but one step halves at most.
  CHECK(next_interval(kOnePct, 0.002, 10 * kS) == 5 * kS);
  // 0.4 % at 4 s: 4 x 0.4 / 0.8 = 2 s.
  CHECK(next_interval(kOnePct, 0.004, 4 * kS) == 2 * kS);
  // Idle at 2 s: back to the base, not below.
  CHECK(next_interval(kOnePct, 0.0, 2 * kS) == kS);
  CHECK(next_interval(kOnePct, 0.0, kS) == kS);
}

TEST_CASE("cpu budget: hysteresis, a period between half the budget and the budget keeps the interval",
          "[unit][budget]") {
  for (double used : {0.005, 0.008, 0.01})
    for (int64_t cur : {kS, 3 * kS, 30 * kS}) {
      INFO(used << " at " << cur);
      CHECK(next_interval(kOnePct, used, cur) == cur);
    }
  // Where a stretch aims (80 %) is inside the band, so the next period keeps it:
  // 2.2 % at 1 s -> 3 s, where the same work costs 2.2 / 3 = 0.73 %.
  int64_t s = next_interval(kOnePct, 0.022, kS);
  CHECK(next_interval(kOnePct, 0.022 * kS / static_cast<double>(s), s) == s);
  // And where a shortening aims: 0.4 % at 4 s -> 2 s, 0.8 % there.
  CHECK(next_interval(kOnePct, 0.008, 2 * kS) == 2 * kS);
}

TEST_CASE("cpu budget: off, or no figure, is the base interval", "[unit][budget]") {
  CpuBudget off{0, kS, 60 * kS};
  CHECK(next_interval(off, 0.5, 7 * kS) == kS);
  CHECK(next_interval(kOnePct, -1, 7 * kS) == kS);
  CHECK(next_interval(kOnePct, std::nan(""), 7 * kS) == kS);
  CHECK(policy::ceiling_for(kS) == 60 * kS);
  CHECK(policy::ceiling_for(120 * kS) == 120 * kS);
  CHECK(policy::adjust_period(kS) == 30 * kS);
  CHECK(policy::adjust_period(60 * kS) == 240 * kS);
}

TEST_CASE("cpu budget: only the walks' part of the figure scales with the interval", "[unit][budget]") {
  // 1.07 % at 12 s, 0.4 % of it the walks: the rest (0.67 %) stays, the walks
  // may cost 0.13 %: 12 s x 0.4 / 0.13 = 36.9 s -> 37 s. Taken all as
  // scaling, the same figure gave 17 s, where it cost about the budget again.
  CHECK(next_interval(kOnePct, 0.0107, 0.004, 12 * kS) == 37 * kS);
  CHECK(next_interval(kOnePct, 0.0107, 12 * kS) == 17 * kS);
  // The rest alone past the target: the ceiling.
  CHECK(next_interval(kOnePct, 0.0107, 0.002, 12 * kS) == 60 * kS);
  // All of it the walks: as before.
  CHECK(next_interval(kOnePct, 0.022, 0.022, kS) == 3 * kS);
  // A walks figure above the total, negative or NaN is the total.
  CHECK(next_interval(kOnePct, 0.022, 0.5, kS) == 3 * kS);
  CHECK(next_interval(kOnePct, 0.022, -1, kS) == 3 * kS);
  CHECK(next_interval(kOnePct, 0.022, std::nan(""), kS) == 3 * kS);
  // Shortening: 0.4 % at 40 s, 0.1 % of it the walks: the walks may cost
  // 0.5 %, so 40 x 0.1 / 0.5 = 8 s, but one step halves at most.
  CHECK(next_interval(kOnePct, 0.004, 0.001, 40 * kS) == 20 * kS);
  // 0.4 % at 20 s, 0.2 % the walks: 20 x 0.2 / 0.6 = 6.7 s -> 10 s (halved).
  CHECK(next_interval(kOnePct, 0.004, 0.002, 20 * kS) == 10 * kS);
  // 0.45 % at 10 s, 0.4 % the walks: 10 x 0.4 / 0.75 = 5.33 s -> 6 s.
  CHECK(next_interval(kOnePct, 0.0045, 0.004, 10 * kS) == 6 * kS);
  // Where a split stretch aims, the next period keeps: 37 s, walks 12 x 0.4 / 37.
  double walks = 0.004 * 12 / 37;
  CHECK(next_interval(kOnePct, 0.0067 + walks, walks, 37 * kS) == 37 * kS);
}

TEST_CASE("cpu budget: a period that has spent its whole budget is decided before its end", "[unit][budget]") {
  using policy::over_before_end;
  // 1 % of a 30 s period at 1 s is 0.3 s of CPU: spent after 3 walks, decided.
  CHECK(over_before_end(kOnePct, 310'000'000, 3 * kS, kS));
  // Up to the whole period's allowance, the period runs on.
  CHECK_FALSE(over_before_end(kOnePct, 300'000'000, 3 * kS, kS));
  CHECK_FALSE(over_before_end(kOnePct, 100'000'000, 20 * kS, kS));
  // Fewer than kEarlyWalks walks never decide, however costly (the first walk).
  CHECK_FALSE(over_before_end(kOnePct, 5 * kS, 2 * kS, kS));
  // At 60 s the period is 4 walks (240 s): its allowance is 2.4 s.
  CHECK_FALSE(over_before_end(kOnePct, 2'000'000'000, 180 * kS, 60 * kS));
  CHECK(over_before_end(kOnePct, 2'500'000'000, 180 * kS, 60 * kS));
  // Off: never.
  CHECK_FALSE(over_before_end(CpuBudget{0, kS, 60 * kS}, 100 * kS, 20 * kS, kS));
  // What it then decides on is the figure so far: 0.31 s over 3 s, 10.3 %.
  CHECK(next_interval(kOnePct, 0.31 / 3, kS) == 13 * kS);
}

TEST_CASE("cpu budget: --cpu-budget and the cpu_budget key take a percent of one core", "[unit][budget][config]") {
  CHECK(*config::parse_cpu_budget("1") == 1.0);
  CHECK(*config::parse_cpu_budget("0.5%") == 0.5);
  CHECK(*config::parse_cpu_budget("0") == 0.0);
  for (const char* bad : {"", "%", "-1", "101", "1.5x", "one", "nan", "inf"}) {
    INFO(bad);
    auto r = config::parse_cpu_budget(bad);
    REQUIRE(!r.ok());
    CHECK(r.error().message().find("percent of one core") != std::string::npos);
  }
  CHECK(config::Config{}.cpu_budget_pct == 1.0);
  CHECK(config::parse_config("cpu_budget = 2\n", "f.toml")->cpu_budget_pct == 2.0);
  CHECK(config::parse_config("cpu_budget = 0.25\n", "f.toml")->cpu_budget_pct == 0.25);
  CHECK(config::parse_config("cpu_budget = \"3%\"\n", "f.toml")->cpu_budget_pct == 3.0);
  CHECK(config::parse_config("cpu_budget = 0\n", "f.toml")->cpu_budget_pct == 0.0);
  for (const char* bad : {"cpu_budget = -1\n", "cpu_budget = 500\n", "cpu_budget = \"lots\"\n", "cpu_budget = true\n"}) {
    INFO(bad);
    auto c = config::parse_config(bad, "f.toml");
    REQUIRE(!c.ok());
    CHECK(c.error().message().find("f.toml:1: cpu_budget") != std::string::npos);
  }
}

namespace {
sampler::Snapshot snap_at(int64_t sec, uint64_t usage, uint64_t weight) {
  sampler::Snapshot s;
  s.ts_ns = kT0 + sec * kS;
  s.weight = weight;
  sampler::Sample x;
  x.cgroup = "/a";
  x.cgroup_id = 100;
  x.usage_bytes = usage;
  x.peak_bytes = 2000;
  x.limit_bytes = kUnlimited;
  x.working_set_bytes = usage;
  s.samples.push_back(x);
  return s;
}

// The first minute sampled every 1 s at 100 bytes, the second every 10 s at
// 1,000 and 1,004 in turn, each of those standing for `weight` samples.
stats::WindowStats two_rates(uint64_t weight, bool rolled_up) {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  for (int i = 0; i < 60; ++i) REQUIRE(h->insert(snap_at(i, 100, 1)).ok());
  for (int i = 0; i < 6; ++i) REQUIRE(h->insert(snap_at(60 + 10 * i, i % 2 ? 1004 : 1000, weight)).ok());
  if (rolled_up) {
    REQUIRE(h->flush().ok());
    auto rep = h->maintain(kT0 + 200 * kS);
    REQUIRE(rep.ok());
    CHECK(rep->buckets_written == 2);
  }
  auto w = h->window_stats({}, {"/a"});
  REQUIRE(w.ok());
  REQUIRE(w->stats.count("/a") == 1);
  return w->stats.at("/a");
}
}  // namespace

TEST_CASE("cpu budget: history statistics over a window whose interval changed are time-weighted",
          "[unit][budget][store]") {
  for (bool rolled_up : {false, true}) {
    INFO((rolled_up ? "from minute buckets" : "from raw rows"));
    // Weighted: each 10 s sample counts as the ten 1 s samples it stands for.
    // Time-weighted mean: (60 x 100 + 30 x 1,000 + 30 x 1,004) / 120 = 551.
    auto w = two_rates(10, rolled_up);
    CHECK(w.avg_bytes == 551);
    CHECK(w.samples == 120);
    CHECK(w.min_bytes == 100);
    CHECK(w.max_bytes == 1004);
    CHECK(w.p95_bytes >= 990);  // half the time at 1,000 or more (the sketch is within 1 %)
    CHECK(w.ws_avg_bytes == 551);
    // The same snapshots counted once each, as before weights: the slower
    // half all but vanishes, (6,000 + 3 x 1,000 + 3 x 1,004) / 66 = 182.
    auto u = two_rates(1, rolled_up);
    CHECK(u.avg_bytes == 182);
    CHECK(u.samples == 66);
    CHECK(u.median_bytes <= 101);  // 60 of 66 at 100 (the sketch is within 1 %)
  }
}
