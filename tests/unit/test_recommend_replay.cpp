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

TEST_CASE("VPA rule: p90 of daily peaks × 1.15, OOM bump, 250Mi floor", "[recommend]") {
  SECTION("three days, peaks 200/300/250: p90 is the 3rd of 3") {
    std::vector<Point> pts{{0, 150 * kMi, 0},
                           {kDay / 2, 200 * kMi, 0},
                           {kDay + 1, 300 * kMi, 0},
                           {2 * kDay, 250 * kMi, 0},
                           {2 * kDay + 5 * kSec, 10 * kMi, 0}};
    auto v = vpa_rule(pts);
    CHECK(v.days == 3);
    CHECK(v.p90_daily_peak_bytes == 300 * kMi);
    CHECK(v.target_bytes == 345 * kMi);
    CHECK_FALSE(v.oom_bumped);
    pts[1].oom_used_bytes = 400 * kMi;  // max(500, 480)
    auto b = vpa_rule(pts);
    CHECK(b.target_bytes == 500 * kMi);
    CHECK(b.oom_bumped);
  }
  SECTION("ten days 100..1000Mi: the 9th") {
    std::vector<Point> pts;
    for (int d = 0; d < 10; ++d) pts.push_back({d * kDay, (d + 1) * 100 * kMi, 0});
    auto v = vpa_rule(pts);
    CHECK(v.p90_daily_peak_bytes == 900 * kMi);
    CHECK(v.target_bytes == 1035 * kMi);
  }
  SECTION("small peaks meet the floor") {
    std::vector<Point> pts{{0, 100 * kMi, 0}};
    auto v = vpa_rule(pts);
    CHECK(v.target_bytes == 250 * kMi);
    CHECK(v.rationale.find("250Mi floor") != std::string::npos);
  }
}
