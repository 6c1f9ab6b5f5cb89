// The recommendation rules on figures worked out by hand: each max term
// winning, rounding up to 16Mi (and exact multiples left alone), both clamps,
// the OOM floor, a window too short to trust, the short window winning.
#include <catch2/catch.hpp>

#include "recommend/rules.hpp"

using namespace ow::recommend;

namespace {
constexpr int64_t kHour = 60 * kMinuteNs;

Input in(uint64_t avg_mi, uint64_t p95_mi, uint64_t max_mi, int64_t covered = 24 * kHour, int64_t window = 24 * kHour) {
  Input i;
  i.long_window = {avg_mi * kMi, p95_mi * kMi, max_mi * kMi, 1000, window, covered};
  return i;
}
}  // namespace

TEST_CASE("recommendation: each term of each max, worked by hand", "[recommend]") {
  struct Row {
    const char* what;
    uint64_t avg, p95, max;   // MiB
    uint64_t request, limit;  // MiB
    const char* request_term;
    const char* limit_term;
  };
  const Row rows[] = {
      // The seed's figures: 180 × 1.2 = 216 -> 224; 224 × 1.5 = 336 (its block's 216/324 contradict its rules).
      {"p95 term, request × 1.5 term", 110, 180, 210, 224, 336, "ws_p95 × 1.20", "request × 1.50"},
      // 150 × 1.5 = 225 -> 240; 240 × 1.5 = 360 -> 368.
      {"avg term", 150, 160, 170, 240, 368, "ws_avg × 1.50", "request × 1.50"},
      // 20 × 1.2 = 24, 10 × 1.5 = 15 -> 64Mi floor; 64 × 1.5 = 96 -> limit clamp 128.
      {"64Mi floor term, limit minimum", 10, 20, 30, 64, 128, "64Mi floor", "request × 1.50"},
      // 120 × 1.2 = 144 (a multiple); 400 × 1.1 = 440 -> 448.
      {"ws_max term", 90, 120, 400, 144, 448, "ws_p95 × 1.20", "ws_max × 1.10"},
      // 160 × 1.2 = 192 exactly: per-mille arithmetic does not round it up to 208.
      {"exact multiple stays", 100, 160, 200, 192, 288, "ws_p95 × 1.20", "request × 1.50"},
      // 4096 × 1.2 = 4915.2 -> 4928 -> clamped to 4096; 4096 × 1.5 = 6144.
      {"request maximum", 100, 4096, 4608, 4096, 6144, "ws_p95 × 1.20", "request × 1.50"},
      // 1024 × 1.2 = 1228.8 -> 1232; 8192 × 1.1 = 9011.2 -> clamped to 8192.
      {"limit maximum", 100, 1024, 8192, 1232, 8192, "ws_p95 × 1.20", "ws_max × 1.10"},
  };
  for (const auto& row : rows) {
    SECTION(row.what) {
      auto r = recommend(in(row.avg, row.p95, row.max));
      INFO(r.rationale);
      CHECK(r.request_bytes == row.request * kMi);
      CHECK(r.limit_bytes == row.limit * kMi);
      CHECK(r.request_term == row.request_term);
      CHECK(r.limit_term == row.limit_term);
      CHECK(r.confidence == Confidence::High);
    }
  }
}

TEST_CASE("recommendation: the rationale states the rounding and the deciding term", "[recommend]") {
  auto r = recommend(in(110, 180, 210));
  CHECK(r.rationale ==
        "request = ws_p95 × 1.20 = 216.0Mi, rounded up to 16Mi → 224Mi; "
        "limit = request × 1.50 = 336.0Mi, a multiple of 16Mi");
  auto lo = recommend(in(10, 20, 30));
  CHECK(lo.rationale ==
        "request = 64Mi floor = 64.0Mi, a multiple of 16Mi; "
        "limit = request × 1.50 = 96.0Mi, a multiple of 16Mi, clamped to the 128Mi minimum");
  auto hi = recommend(in(100, 4096, 4608));
  CHECK(hi.rationale.find("rounded up to 16Mi → 4928Mi, clamped to the 4Gi maximum") != std::string::npos);
}

TEST_CASE("recommendation: one byte over a multiple rounds up to the next 16Mi", "[recommend]") {
  Input i = in(100, 160, 200);
  i.long_window.ws_p95_bytes += 1;  // 1.2 × (160Mi + 1) = 192Mi + 2 bytes (ceil)
  auto r = recommend(i);
  CHECK(r.request_bytes == 208 * kMi);
  CHECK(scale_up(160 * kMi + 1, 1200) == 192 * kMi + 2);
  CHECK(round_up(192 * kMi + 2, 16 * kMi) == 208 * kMi);
  CHECK(round_up(192 * kMi, 16 * kMi) == 192 * kMi);
}

TEST_CASE("recommendation: clamps are configurable and a limit never falls below the request", "[recommend]") {
  Rules rules;
  rules.request_min_bytes = 256 * kMi;
  auto r = recommend(in(10, 20, 30), rules);
  CHECK(r.request_bytes == 256 * kMi);  // 64Mi floor term, clamped up
  CHECK(r.limit_bytes == 384 * kMi);    // 256 × 1.5
  CHECK(r.rationale.find("clamped to the 256Mi minimum") != std::string::npos);

  Rules tight;
  tight.limit_max_bytes = 256 * kMi;
  auto t = recommend(in(100, 250, 260), tight);  // request 250 × 1.2 = 300 -> 304
  CHECK(t.request_bytes == 304 * kMi);
  CHECK(t.limit_bytes == 304 * kMi);  // 456 clamped to 256, then raised to the request
  CHECK(t.rationale.find("a limit is never below the request") != std::string::npos);

  Rules bad;
  bad.request_min_bytes = 2 * kGi;
  bad.request_max_bytes = kGi;
  CHECK(check_rules(bad) == "request minimum 2Gi is above its maximum 1Gi");
  CHECK(check_rules(Rules{}).empty());
}

TEST_CASE("recommendation: an OOM kill in the window raises the limit's floor", "[recommend]") {
  Input i = in(80, 100, 150);  // request 128 (100 × 1.2 = 120 -> 128); limit without OOM 192
  CHECK(recommend(i).limit_bytes == 192 * kMi);
  i.oom_used_bytes = 300 * kMi;  // max(300 + 100, 300 × 1.2 = 360) = 400
  auto r = recommend(i);
  CHECK(r.limit_bytes == 400 * kMi);
  CHECK(r.limit_term == "OOM floor used + 100Mi (used 300.0Mi)");
  i.oom_used_bytes = 1024 * kMi;  // max(1124, 1228.8) -> 1232
  r = recommend(i);
  CHECK(r.limit_bytes == 1232 * kMi);
  CHECK(r.limit_term == "OOM floor used × 1.20 (used 1024.0Mi)");
  i.oom_used_bytes = 10 * kMi;  // 110Mi floor loses to request × 1.5
  CHECK(recommend(i).limit_bytes == 192 * kMi);
}

TEST_CASE("recommendation: too little history is low confidence with wider margins", "[recommend]") {
  SECTION("20 min of a 24 h window") {
    auto r = recommend(in(50, 100, 200, 20 * kMinuteNs));
    CHECK(r.confidence == Confidence::Low);
    CHECK(r.request_bytes == 144 * kMi);  // 100 × 1.40 = 140 -> 144
    CHECK(r.limit_bytes == 272 * kMi);    // 200 × 1.30 = 260 -> 272
    CHECK(r.request_term == "ws_p95 × 1.40");
    CHECK(r.confidence_reason.find("20m of data in a 24h window") != std::string::npos);
    CHECK(r.rationale.find("low confidence") != std::string::npos);
  }
  SECTION("2 h of 24 h: under half the window") {
    CHECK(recommend(in(50, 100, 200, 2 * kHour)).confidence == Confidence::Low);
  }
  SECTION("25 min of a 40 min window: over half, but under 30 min") {
    CHECK(recommend(in(50, 100, 200, 25 * kMinuteNs, 40 * kMinuteNs)).confidence == Confidence::Low);
  }
  SECTION("13 h of 24 h is enough") {
    auto r = recommend(in(50, 100, 200, 13 * kHour));
    CHECK(r.confidence == Confidence::High);
    CHECK(r.request_bytes == 128 * kMi);  // 120 -> 128
    CHECK(r.confidence_reason.empty());
  }
}

TEST_CASE("recommendation: the short window wins a figure when it is higher", "[recommend]") {
  Input i = in(100, 100, 200);
  i.short_window = WindowFigures{90 * kMi, 150 * kMi, 160 * kMi, 100, 15 * kMinuteNs, 15 * kMinuteNs};
  auto r = recommend(i);
  CHECK(r.request_bytes == 192 * kMi);  // 150 × 1.2 = 180 -> 192
  CHECK(r.request_term == "ws_p95 (short window) × 1.20");
  CHECK(r.limit_bytes == 288 * kMi);  // long max 200 × 1.1 = 220 < 192 × 1.5 = 288
}

TEST_CASE("recommendation text helpers", "[recommend]") {
  CHECK(mib_text(196 * kMi - kMi * 3 / 10) == "195.7Mi");
  CHECK(factor_text(1200) == "1.20");
  CHECK(factor_text(1150) == "1.15");
  CHECK(scale_up(0, 1500) == 0);
}
