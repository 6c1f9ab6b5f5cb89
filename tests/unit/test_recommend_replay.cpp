// Replay figures and VPA's rule on series small enough to check by hand.
#include <catch2/catch.hpp>

#include <vector>

#include "recommend/replay.hpp"

using namespace ow::recommend;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kDay = 86400 * kSec;
}  // namespace

TEST_CASE("replay: episodes above the limit, time above the request, over-request", "[recommend]") {
  // ws (Mi) at 0..50 s: 100 300 320 100 310 100; request 200Mi, limit 250Mi.
  std::vector<Point> pts;
  uint64_t ws[] = {100, 300, 320, 100, 310, 100};
  for (int i = 0; i < 6; ++i) pts.push_back({i * 10 * kSec, ws[i] * kMi, 0});
  auto r = replay(pts, 200 * kMi, 250 * kMi);
  CHECK(r.samples == 6);
  CHECK(r.samples_above_limit == 3);
  CHECK(r.oom_episodes == 2);                    // 300,320 then 310
  CHECK(r.time_above_request_ns == 30 * kSec);   // samples 1, 2 and 4 hold 10 s each
  CHECK(r.avg_over_request_bytes == 50 * kMi);   // (100 + 100 + 100) / 6
  SECTION("the last sample holds no time, but counts above the limit") {
    pts.push_back({60 * kSec, 400 * kMi, 0});
    auto q = replay(pts, 200 * kMi, 250 * kMi);
    CHECK(q.oom_episodes == 3);
    CHECK(q.time_above_request_ns == 30 * kSec);
    CHECK(q.avg_over_request_bytes == (300 * kMi + 3) / 7);  // rounded to nearest
  }
  SECTION("a generous limit: no episodes") {
    auto q = replay(pts, 400 * kMi, 500 * kMi);
    CHECK(q.oom_episodes == 0);
    CHECK(q.time_above_request_ns == 0);
    CHECK(q.avg_over_request_bytes == (300 + 100 + 80 + 300 + 90 + 300) * kMi / 6);
  }
  CHECK(replay({}, 1, 1).samples == 0);
}

TEST_CASE("VPA rule: the model on a cgroup's points; kills become OOM samples; the limit keeps the ratio",
          "[recommend][vpa]") {
  // Three days of one sample a minute at 200Mi from a UTC midnight, day 1 with
  // one 300Mi sample. Peaks at the ends of days 0, 1, 2 weigh 1, 2, 4
  // (decaying_histogram.go, half-life 24 h): p90 of 7 needs 6.3: 200Mi holds
  // 5, so the 300Mi bucket (19, end 330659541): target 330659541 + 15 % =
  // 380258472 (vpa_model.hpp; arithmetic in test_vpa_model.cpp).
  constexpr int64_t kMin = 60 * kSec;
  constexpr int64_t kT0 = 1767225600LL * kSec;  // 2026-01-01T00:00:00Z
  std::vector<Point> pts;
  for (int m = 0; m < 3 * 1440; ++m) pts.push_back({kT0 + m * kMin, (m == 1440 + 600 ? 300 : 200) * kMi, 0});
  int64_t now = kT0 + 3 * kDay;
  SECTION("request 256Mi, limit 384Mi: the limit is 1.5 × the target, rounded down") {
    auto v = vpa_rule(pts, 256 * kMi, 384 * kMi, now);
    CHECK(v.model.peaks == 3);
    CHECK(v.target_bytes == 380258472);
    REQUIRE(v.limit_bytes);
    CHECK(*v.limit_bytes == 570387708);  // floor(402653184 × 380258472 / 268435456)
    CHECK(v.rationale.find("p90 315.3Mi (bucket 19 end) + margin = 362.6Mi") != std::string::npos);
  }
  SECTION("no limit now: VPA sets none") {
    auto v = vpa_rule(pts, 256 * kMi, std::nullopt, now);
    CHECK_FALSE(v.limit_bytes);
    CHECK(v.rationale.find("no limit") != std::string::npos);
  }
  SECTION("a recorded kill is an OOM event: max(request, the day's peak) + 100Mi replaces that peak") {
    // On day 2 at noon, request 256Mi, the day's peak so far 200Mi:
    // max(256 + 100, 256 × 1.2) = 356Mi weighs 4 of 7: p90 is its bucket
    // (356Mi = 373293056: floor(ln(2.866465) / ln 1.05) = floor(21.58) = 21,
    // end start(22) = 2e8 × (1.05^22 − 1) = 385052143.98; 385052143 +
    // trunc(57757821.45) = 442809964).
    pts.push_back({kT0 + 2 * kDay + kDay / 2, 400 * kMi, 390 * kMi, true});
    std::stable_sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.ts_ns < b.ts_ns; });
    auto v = vpa_rule(pts, 256 * kMi, 256 * kMi, now);
    REQUIRE(v.model.ooms.size() == 1);
    CHECK(v.model.ooms[0].used_bytes == 390 * kMi);  // shown, not used
    CHECK(v.model.ooms[0].sample_bytes == 356 * kMi);
    CHECK(v.target_bytes == 442809964);
    CHECK(*v.limit_bytes == 442809964);  // request equals limit now
    CHECK(v.model.samples == 3 * 1440);  // the kill is not a sample
  }
  SECTION("a kill counted from the samples' counter is an OOM event too") {
    pts[2 * 1440 + 720].oom_used_bytes = 390 * kMi;
    auto v = vpa_rule(pts, 256 * kMi, 256 * kMi, now);
    REQUIRE(v.model.ooms.size() == 1);
    CHECK(v.target_bytes == 442809964);
  }
  SECTION("small peaks meet the 250Mi minimum") {
    std::vector<Point> one{{kT0, 100 * kMi, 0}};
    auto v = vpa_rule(one, std::nullopt, std::nullopt, kT0);
    CHECK(v.target_bytes == 250 * kMi);
    CHECK(v.rationale.find("raised to the 250.0Mi minimum") != std::string::npos);
  }
}
