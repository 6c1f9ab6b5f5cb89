// The VPA recommender model on series whose figures are worked out by hand
// from kubernetes/autoscaler vertical-pod-autoscaler/pkg (paths below are
// under it), to the histogram bucket and the byte.
//
// The arithmetic every case shares:
//   buckets (recommender/util/histogram_options.go, exponential, first 1e7,
//   ratio 1.05, max 1e12 from model/aggregations_config.go
//   memoryHistogramOptions): bucket(v) = floor(ln(v × 0.05 / 1e7 + 1) / ln 1.05),
//   start(b) = 1e7 × (1.05^b − 1) / 0.05; 176 buckets.
//   Percentile (util/histogram.go) returns start(b + 1), the bucket's END:
//     100Mi = 104857600  -> bucket  8, end  110265643.2
//     200Mi = 209715200  -> bucket 14, end  215785635.9
//     300Mi = 314572800  -> bucket 19, end  330659541.0
//     400Mi = 419430400  -> bucket 23, end  445019988.7
//     500Mi = 524288000  -> bucket 26, end  546691264.5
//    1000Mi = 1048576000 -> bucket 37, end 1077095458.0
//    2000Mi = 2097152000 -> bucket 50, end 2208153955.0
//      50Mi = 52428800   -> bucket  4, end   55256312.5
//   Amounts are int64, floats truncated (model/types.go resourceAmountFromFloat);
//   margin (logic/estimator.go memoryMarginEstimator): base + trunc(base × 0.15):
//     100 bucket: 110265643 + 16539846 = 126805489     200: 215785635 + 32367845 = 248153480
//     300 bucket: 330659541 + 49598931 = 380258472     400: 445019988 + 66752998 = 511772986
//     500 bucket: 546691264 + 82003689 = 628694953    1000: 1077095457 + 161564318 = 1238659775
//    2000 bucket: 2208153955 + 331223093 = 2539377048   50: 55256312 + 8288446 = 63544758
//   Weights (util/decaying_histogram.go): a peak is added at its interval's
//   END (model/container.go addMemorySample), weighing 2^((end − ref) / 24h),
//   ref = the first peak's time rounded to 24 h. With samples from midnight t0
//   the day-k peak lands at t0 + (k+1) d and weighs exactly 2^k: ten days sum
//   to 1023, so p50 needs 511.5, p90 920.7, p95 971.85 of it.
//   Confidence (logic/estimator.go getConfidence): min(span / 1 d, samples / 1440);
//   ten days at one sample a minute: min(14399 / 1440, 14400 / 1440) = 9.9993056;
//   upper × (1 + 1/9.9993056) = × 1.1000069, lower × (1 + 0.001/9.9993056)^-2
//   = × 0.99980002 (logic/recommender.go CreatePodResourceRecommender).
//   Minimum (logic/recommender.go GetRecommendedPodResources): 250 × 1024 × 1024
//   = 262144000 per pod, split over its container names.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "recommend/vpa_model.hpp"

using namespace ow::recommend;

namespace {
constexpr int64_t kMin = 60LL * 1'000'000'000;
constexpr int64_t kDay = 1440 * kMin;
constexpr int64_t kT0 = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kKiB = 1 << 10;

// One sample a minute for `days` days from t0; day k's samples climb by 1 KiB a
// minute to peak(k) at its last minute, so each day's peak is replaced 1439
// times (subtract the old, add the new) before it stands. climb 0: flat.
template <typename Peak>
std::vector<VpaSample> daily(int days, Peak peak, int64_t t0 = kT0, uint64_t climb = kKiB) {
  std::vector<VpaSample> v;
  for (int k = 0; k < days; ++k)
    for (int m = 0; m < 1440; ++m) v.push_back({t0 + k * kDay + m * kMin, peak(k) - (1439 - m) * climb});
  return v;
}

VpaRecommendation one(std::span<const VpaSample> s, std::span<const VpaOom> ooms = {}, std::optional<uint64_t> req = {},
                      std::optional<uint64_t> lim = {}, int64_t now = kT0 + 10 * kDay) {
  VpaContainer c{"pod-1", "app", s, ooms, req, lim};
  auto r = vpa_model(std::span(&c, 1), now);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  return r->front();
}

void check_ten_day_confidence(const VpaRecommendation& r) {
  CHECK(r.samples == 14400);
  CHECK(r.peaks == 10);
  CHECK(r.confidence == Approx(14399.0 / 1440).epsilon(1e-12));
  CHECK(r.upper.factor == Approx(1.1000069449267311).epsilon(1e-12));
  CHECK(r.lower.factor == Approx(0.9998000161103135).epsilon(1e-12));
}
}  // namespace

TEST_CASE("VPA model: ten daily peaks rising 100 → 1000Mi", "[recommend][vpa]") {
  auto s = daily(10, [](int k) { return (k + 1) * 100 * kMiB; });
  auto r = one(s);
  check_ten_day_confidence(r);
  // By value, cumulative weight: 100Mi 1, 200Mi 3, ..., 900Mi 511, 1000Mi 1023.
  // p90 (920.7) and p95 (971.85) reach it only at 1000Mi; so does p50 (511.5 > 511).
  CHECK(r.target.bucket == 37);
  CHECK(r.target.percentile_bytes == 1077095457);
  CHECK(r.target.bytes == 1238659775);  // 1181.3Mi: the 1,181 Mi
  CHECK(r.upper.bucket == 37);
  CHECK(r.upper.bytes == 1362534354);   // trunc(1238659775 × 1.1000069)
  CHECK(r.lower.bucket == 37);
  CHECK(r.lower.bytes == 1238412063);   // trunc(1238659775 × 0.99980002)
  CHECK_FALSE(r.limit_bytes);           // no limit now: VPA sets none
  REQUIRE(r.buckets.size() == 10);
  CHECK(r.buckets.back().index == 37);
  CHECK(r.buckets.back().share == Approx(512.0 / 1023));
  CHECK(r.buckets.front().index == 8);
  CHECK(r.buckets.front().share == Approx(1.0 / 1023));
  CHECK(vpa_rationale(r).find("p90 1027.2Mi (bucket 37 end) + margin = 1181.3Mi") != std::string::npos);
}

TEST_CASE("VPA model: ten daily peaks falling 1000 → 100Mi", "[recommend][vpa]") {
  auto s = daily(10, [](int k) { return (10 - k) * 100 * kMiB; });
  auto r = one(s);
  check_ten_day_confidence(r);
  // By value, cumulative weight: 100Mi (day 9) 512, 200Mi 768, 300Mi 896,
  // 400Mi 960, 500Mi 976, ... 1000Mi (day 0) 1023.
  CHECK(r.target.bucket == 23);          // 960 ≥ 920.7 at 400Mi
  CHECK(r.target.bytes == 511772986);    // 488.1Mi: the 488 Mi
  CHECK(r.upper.bucket == 26);           // 976 ≥ 971.85 at 500Mi
  CHECK(r.upper.bytes == 691568814);     // trunc(628694953 × 1.1000069)
  CHECK(r.lower.bucket == 8);            // 512 ≥ 511.5 at 100Mi
  CHECK(r.lower.scaled_bytes == 126780129);  // trunc(126805489 × 0.99980002)
  CHECK(r.lower.raised_to_min);
  CHECK(r.lower.bytes == 262144000);     // the 250Mi pod minimum
}

TEST_CASE("VPA model: flat 300Mi for ten days", "[recommend][vpa]") {
  auto s = daily(10, [](int) { return 300 * kMiB; });
  auto r = one(s, {}, 256 * kMiB, 256 * kMiB);
  check_ten_day_confidence(r);
  CHECK(r.buckets.size() == 1);
  CHECK(r.target.bucket == 19);
  CHECK(r.target.bytes == 380258472);  // 362.6Mi
  CHECK(r.upper.bytes == 418286960);   // trunc(380258472 × 1.1000069)
  CHECK(r.lower.bytes == 380182426);   // trunc(380258472 × 0.99980002)
  // Request equals limit now: the limit is the target (limit_and_request_scaling.go).
  REQUIRE(r.limit_bytes);
  CHECK(*r.limit_bytes == 380258472);
}

TEST_CASE("VPA model: one OOM kill, today and five days ago", "[recommend][vpa]") {
  auto s = daily(10, [](int) { return 300 * kMiB; }, kT0, 0);  // flat: the peak at noon is 300Mi
  // model/container.go RecordOOM: used = max(request 256Mi, the interval's
  // usage peak 300Mi) = 314572800; sample = max(used + 100Mi = 419430400,
  // trunc(used × 1.2) = 377487360) = 419430400 (400Mi), which replaces the
  // interval's 300Mi peak. The usage at the kill (here 383Mi) plays no part.
  SECTION("on the last day: its peak weighs 512 of 1023") {
    std::vector<VpaOom> oom{{kT0 + 9 * kDay + kDay / 2, 383 * kMiB}};
    auto r = one(s, oom, 256 * kMiB, 384 * kMiB);
    REQUIRE(r.ooms.size() == 1);
    CHECK(r.ooms[0].recorded);
    CHECK(r.ooms[0].base_bytes == 300 * kMiB);
    CHECK(r.ooms[0].sample_bytes == 400 * kMiB);
    CHECK(r.peaks == 10);  // replaced, not added
    // 300Mi holds days 0-8: 511 < 511.5, so even p50 is the 400Mi bucket.
    CHECK(r.target.bucket == 23);
    CHECK(r.target.bytes == 511772986);
    CHECK(r.upper.bytes == 562953838);  // trunc(511772986 × 1.1000069)
    CHECK(r.lower.bytes == 511670639);  // trunc(511772986 × 0.99980002)
    // The limit keeps 384/256: floor(402653184 × 511772986 / 268435456).
    REQUIRE(r.limit_bytes);
    CHECK(*r.limit_bytes == 767659479);
  }
  SECTION("on day 4: its peak weighs 16 of 1023 and moves nothing") {
    std::vector<VpaOom> oom{{kT0 + 4 * kDay + kDay / 2, 383 * kMiB}};
    auto r = one(s, oom, 256 * kMiB, 384 * kMiB);
    CHECK(r.ooms.at(0).sample_bytes == 400 * kMiB);
    REQUIRE(r.buckets.size() == 2);
    CHECK(r.buckets[1].share == Approx(16.0 / 1023));
    // 300Mi holds 1007 ≥ 971.85: all three stay in its bucket.
    CHECK(r.target.bytes == 380258472);
    CHECK(r.upper.bytes == 418286960);
    CHECK(r.lower.bytes == 380182426);
    CHECK(*r.limit_bytes == 570387708);  // floor(402653184 × 380258472 / 268435456)
  }
  SECTION("the request in force at the kill, when given, instead of today's") {
    // used = max(request then 400Mi, peak 300Mi) = 419430400; sample =
    // max(used + 100Mi = 524288000, trunc(used × 1.2) = 503316480) = 500Mi.
    std::vector<VpaOom> oom{{kT0 + 9 * kDay + kDay / 2, 383 * kMiB, 400 * kMiB}};
    auto r = one(s, oom, 256 * kMiB, 384 * kMiB);
    CHECK(r.ooms.at(0).base_bytes == 400 * kMiB);
    CHECK(r.ooms.at(0).sample_bytes == 500 * kMiB);
  }
  SECTION("without a request: the interval's peak alone") {
    std::vector<VpaOom> oom{{kT0 + 9 * kDay + kDay / 2, 383 * kMiB}};
    auto r = one(s, oom, std::nullopt, 384 * kMiB);
    CHECK(r.ooms.at(0).base_bytes == 300 * kMiB);
    CHECK(r.target.bytes == 511772986);
    CHECK(*r.limit_bytes == 511772986);  // no request now: the limit is the target
  }
}

TEST_CASE("VPA model: one spike of 2000Mi in flat 300Mi", "[recommend][vpa]") {
  SECTION("on the last day: its peak weighs 512 of 1023") {
    auto s = daily(10, [](int) { return 300 * kMiB; });
    s[9 * 1440 + 600].bytes = 2000 * kMiB;
    auto r = one(s);
    CHECK(r.target.bucket == 50);
    CHECK(r.target.bytes == 2539377048);  // 2421.7Mi
    CHECK(r.upper.bytes == 2793332388);   // trunc(2539377048 × 1.1000069)
    CHECK(r.lower.bytes == 2538869213);   // 511 < 511.5: p50 too
  }
  SECTION("on day 3: its peak weighs 8 of 1023 and moves nothing") {
    auto s = daily(10, [](int) { return 300 * kMiB; });
    s[3 * 1440 + 600].bytes = 2000 * kMiB;
    auto r = one(s);
    CHECK(r.target.bytes == 380258472);
    CHECK(r.upper.bytes == 418286960);  // 1015 ≥ 971.85
  }
}

TEST_CASE("VPA model: two pods merge; intervals anchor at each container's first sample", "[recommend][vpa]") {
  // Pod a: 400Mi from t0 for a day; pod b: 200Mi from t0 + 12 h for a day.
  // a's peak lands at t0 + 24 h (the reference): weight 1; b's at t0 + 36 h:
  // 2^0.5 = 1.4142. Total 2.4142: p50 needs 1.2071 (200Mi has 1.4142), p90
  // 2.1728 (reached at 400Mi).
  auto a = daily(1, [](int) { return 400 * kMiB; });
  auto b = daily(1, [](int) { return 200 * kMiB; }, kT0 + kDay / 2);
  VpaContainer cs[] = {{"pod-a", "app", a, {}, {}, {}}, {"pod-b", "app", b, {}, {}, {}}};
  auto r = vpa_model(cs, kT0 + 2 * kDay);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const auto& x = r->front();
  CHECK(x.containers == 2);
  CHECK(x.peaks == 2);
  CHECK(x.total_weight == Approx(1 + std::sqrt(2.0)));
  // Confidence: min(2159 min / 1440, 2880 / 1440) = 1.4993056.
  CHECK(x.samples == 2880);
  CHECK(x.confidence == Approx(2159.0 / 1440).epsilon(1e-12));
  CHECK(x.target.bucket == 23);
  CHECK(x.target.bytes == 511772986);
  CHECK(x.upper.bytes == 853113004);  // trunc(511772986 × (1 + 1/1.4993056) = × 1.6669755)
  CHECK(x.lower.bucket == 14);
  CHECK(x.lower.scaled_bytes == 247822786);  // trunc(248153480 × 0.99866738)
  CHECK(x.lower.bytes == 262144000);
}

TEST_CASE("VPA model: the pod minimum is split over its containers", "[recommend][vpa]") {
  // One day: confidence min(1439/1440, 1440/1440) = 0.9993056; upper × 2.0006949,
  // lower × 0.99800161. Minimum 262144000 × 1/2 = 131072000 each.
  auto app = daily(1, [](int) { return 300 * kMiB; });
  auto side = daily(1, [](int) { return 50 * kMiB; });
  VpaContainer cs[] = {{"p", "sidecar", side, {}, {}, {}}, {"p", "app", app, {}, 300 * kMiB, 600 * kMiB}};
  auto r = vpa_model(cs, kT0 + kDay);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  const auto& x = (*r)[0];
  const auto& y = (*r)[1];
  CHECK(x.name == "app");
  CHECK(x.min_bytes == 131072000);
  CHECK(x.target.bytes == 380258472);
  CHECK(x.upper.bytes == 760781195);  // trunc(380258472 × 2.0006949)
  CHECK(x.lower.bytes == 379498567);  // trunc(380258472 × 0.99800161)
  CHECK(*x.limit_bytes == 760516944);  // floor(629145600 × 380258472 / 314572800)
  CHECK(y.name == "sidecar");
  CHECK(y.target.bucket == 4);
  CHECK(y.target.margin_bytes == 63544758);
  CHECK(y.target.bytes == 131072000);  // raised to the half minimum
  CHECK(y.upper.scaled_bytes == 127133674);
  CHECK(y.upper.bytes == 131072000);
}

TEST_CASE("VPA model: edges", "[recommend][vpa]") {
  SECTION("samples and kills after now are not seen") {
    auto s = daily(2, [](int k) { return (k + 1) * 300 * kMiB; });
    auto r = one(s, {}, {}, {}, kT0 + kDay - 1);
    CHECK(r.future_ignored == 1440);
    CHECK(r.target.bytes == 380258472);  // day 0 only
  }
  SECTION("one sample: confidence 0, upper bound at the 1e14 cap, lower at the minimum") {
    VpaSample s{kT0, 300 * kMiB};
    auto r = one(std::span(&s, 1));
    CHECK(r.confidence == 0);
    CHECK(r.target.bytes == 380258472);
    CHECK(r.upper.bytes == 100'000'000'000'000);  // × (1 + 1/0) = ∞, capped (model/types.go MaxResourceAmount)
    CHECK(r.lower.bytes == 262144000);            // × (1 + 0.001/0)^-2 = 0
  }
  SECTION("an interval that starts at 0 bytes keeps a 0 peak (addMemorySample replaces only a non-zero one)") {
    std::vector<VpaSample> s{{kT0, 0}, {kT0 + kMin, 300 * kMiB}};
    auto r = one(s);
    REQUIRE(r.buckets.size() == 1);
    CHECK(r.buckets[0].index == 0);
    CHECK(r.target.percentile_bytes == 10'000'000);  // the end of bucket 0
    CHECK(r.target.bytes == 262144000);
  }
  SECTION("history idle for 8 intervals is expired") {
    auto s = daily(1, [](int) { return 300 * kMiB; });
    CHECK_FALSE(one(s, {}, {}, {}, kT0 + 9 * kDay - kMin - 1).expired);
    CHECK(one(s, {}, {}, {}, kT0 + 9 * kDay - kMin).expired);
  }
  SECTION("non-finite or out-of-range options are refused") {
    auto s = daily(1, [](int) { return 300 * kMiB; });
    VpaContainer c{"p", "app", s, {}, {}, {}};
    for (double bad : {std::nan(""), double(INFINITY), 1.0, 0.5}) {
      VpaOptions o;
      o.bucket_ratio = bad;
      CHECK_FALSE(vpa_model(std::span(&c, 1), kT0, o).ok());
    }
    VpaOptions o;
    o.target_percentile = std::nan("");
    CHECK_FALSE(vpa_model(std::span(&c, 1), kT0, o).ok());
    o = {};
    o.safety_margin = double(INFINITY);
    CHECK_FALSE(vpa_model(std::span(&c, 1), kT0, o).ok());
  }
  SECTION("sizes near 2^64 saturate instead of wrapping") {
    std::vector<VpaSample> s{{kT0, UINT64_MAX}, {kT0 + kMin, UINT64_MAX - 1}};
    std::vector<VpaOom> oom{{kT0 + kMin, UINT64_MAX}};
    auto r = one(s, oom, UINT64_MAX, UINT64_MAX / 2);
    // Past 1e12 everything is the last bucket, which has no end: its start,
    // 1e7 × (1.05^175 − 1) / 0.05 = 1021109408904.9; + 15 % = 1174275820239.
    CHECK(r.target.bucket == 175);
    CHECK(r.target.bytes == 1174275820239);
    CHECK(r.ooms.at(0).sample_bytes == uint64_t(INT64_MAX));
  }
}
