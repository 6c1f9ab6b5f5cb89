// LogSketch: the relative-error bound per value, exact counts under merge and
// encoding, refusal of malformed blobs, and the end-to-end claim the history
// store makes: quantiles from 1-minute buckets within 1 % of exact.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "stats/bucket.hpp"
#include "stats/quantile.hpp"
#include "stats/sketch.hpp"
#include "stats/window.hpp"

using ow::sampler::Sample;
using namespace ow::stats;

namespace {
double rel_err(uint64_t got, uint64_t want) {
  return want == 0 ? (got == 0 ? 0.0 : 1.0) : std::fabs(static_cast<double>(got) - static_cast<double>(want)) / want;
}
}  // namespace

TEST_CASE("every value's bin representative is within 1 % (the per-value bound)", "[stats][sketch]") {
  double worst = 0;
  // Below 256 exact; then every value up to 1 MiB, then a dense sweep of every
  // scale up to 2^64 (bin edges included: v and v+-1 around each power step).
  for (uint64_t v = 0; v < (1u << 20); ++v) {
    double e = rel_err(LogSketch::representative(LogSketch::key_of(v)), v);
    if (v < LogSketch::kExactBelow) REQUIRE(e == 0);
    worst = std::max(worst, e);
  }
  std::mt19937_64 rng(42);
  for (int shift = 20; shift < 64; ++shift)
    for (int i = 0; i < 20000; ++i) {
      uint64_t v = (uint64_t{1} << shift) + (rng() >> (64 - shift));
      worst = std::max(worst, rel_err(LogSketch::representative(LogSketch::key_of(v)), v));
    }
  worst = std::max(worst, rel_err(LogSketch::representative(LogSketch::key_of(UINT64_MAX)), UINT64_MAX));
  INFO("worst per-value error " << worst);
  CHECK(worst <= LogSketch::kRelativeAccuracy + 0.5 / 256 + 1e-12);
  CHECK(worst < 0.01);
}

TEST_CASE("keys are monotonic in the value, so bins keep rank order", "[stats][sketch]") {
  uint32_t prev = 0;
  for (uint64_t v = 0; v < (1u << 22); v += 1 + v / 512) {
    uint32_t k = LogSketch::key_of(v);
    REQUIRE(k >= prev);
    prev = k;
  }
}

TEST_CASE("merge equals adding everything to one sketch; encode round-trips", "[stats][sketch]") {
  std::mt19937_64 rng(1);
  LogSketch all, a, b;
  for (int i = 0; i < 5000; ++i) {
    uint64_t v = 1000 + rng() % 50'000'000;
    all.add(v);
    (i % 3 ? a : b).add(v);
  }
  a.merge(b);
  CHECK(a == all);
  CHECK(a.count() == 5000);
  auto d = LogSketch::decode(all.encode());
  REQUIRE(d.ok());
  CHECK(*d == all);
  CHECK(d->quantile(95) == all.quantile(95));
  LogSketch empty;
  auto de = LogSketch::decode(empty.encode());
  REQUIRE(de.ok());
  CHECK(de->empty());
}

TEST_CASE("malformed sketch blobs are refused and add nothing", "[stats][sketch]") {
  LogSketch s;
  s.add(1 << 20, 3);
  s.add(5 << 20, 2);
  std::string blob = s.encode();
  LogSketch target;
  target.add(4096);
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK_FALSE(target.merge_encoded(blob.substr(0, cut)).ok());
  }
  CHECK_FALSE(target.merge_encoded(blob + "x").ok());            // trailing bytes
  CHECK_FALSE(target.merge_encoded(std::string("\x01\x05\x00", 3)).ok());  // zero count
  CHECK(target.count() == 1);
  CHECK(target.merge_encoded(blob).ok());
  CHECK(target.count() == 6);
}

namespace {
// Synthetic usage shapes a memory cgroup shows: steady with noise, a sawtooth
// (GC), steps, rare spikes, a random walk, and uniform over a wide range.
std::vector<uint64_t> series(int shape, int n, std::mt19937_64& rng) {
  std::vector<uint64_t> v;
  std::normal_distribution<double> noise(0, 1);
  double walk = 300e6;
  for (int i = 0; i < n; ++i) {
    double x = 0;
    switch (shape) {
      case 0: x = 200e6 + 2e6 * noise(rng); break;
      case 1: x = 100e6 + (i % 300) * 1e6; break;
      case 2: x = (i / 3000 % 2) ? 800e6 : 50e6; break;
      case 3: x = (rng() % 500 == 0) ? 2e9 : 64e6 + 1e5 * noise(rng); break;
      case 4: walk = std::max(1e6, walk + 1e6 * noise(rng)); x = walk; break;
      case 5: x = 4096 + static_cast<double>(rng() % (uint64_t{1} << 34)); break;
      case 6: x = 300 + static_cast<double>(rng() % 100000); break;  // tiny cgroups, near the exact range
    }
    v.push_back(static_cast<uint64_t>(std::max(0.0, x)));
  }
  return v;
}
}  // namespace

TEST_CASE("quantiles from 1-minute buckets stay within 1 % of exact", "[stats][sketch]") {
  std::mt19937_64 rng(2024);
  double worst = 0;
  for (int shape = 0; shape <= 6; ++shape) {
    auto values = series(shape, 6 * 3600, rng);  // 6 h at 1 s
    std::vector<Sample> samples;
    for (size_t i = 0; i < values.size(); ++i) {
      Sample s;
      s.ts_ns = static_cast<int64_t>(i) * 1'000'000'000;
      s.cgroup = "/a";
      s.usage_bytes = values[i];
      samples.push_back(s);
    }
    auto exact = window_stats(samples, {});
    REQUIRE(exact.ok());
    WindowAccumulator acc;
    for (const auto& b : build_buckets(samples, 60'000'000'000)) acc.add(b);
    auto approx = acc.finish();
    const auto& e = exact->at("/a");
    INFO("shape " << shape << " median " << approx.median_bytes << " vs " << e.median_bytes << ", p95 "
                  << approx.p95_bytes << " vs " << e.p95_bytes);
    CHECK_FALSE(approx.exact);
    CHECK(approx.samples == e.samples);
    CHECK(approx.min_bytes == e.min_bytes);  // min, max and average stay exact
    CHECK(approx.max_bytes == e.max_bytes);
    CHECK(approx.avg_bytes == e.avg_bytes);
    for (auto [a, x] : {std::pair{approx.median_bytes, e.median_bytes}, std::pair{approx.p95_bytes, e.p95_bytes}}) {
      CHECK(rel_err(a, x) <= 0.01);
      worst = std::max(worst, rel_err(a, x));
    }
  }
  INFO("worst quantile error from buckets: " << worst * 100 << " %");
  CHECK(worst <= 0.01);
}
