// The kernel watermark (peak_bytes) raises the window max when it rose between
// two samples inside the window, even though no sample saw the spike.
#include <catch2/catch.hpp>

#include "stats/window.hpp"

using ow::sampler::Sample;
using namespace ow::stats;

namespace {
constexpr int64_t kSec = 1'000'000'000;

Sample at(int64_t sec, uint64_t usage, uint64_t peak, uint64_t id = 7) {
  Sample s;
  s.ts_ns = sec * kSec;
  s.cgroup = "/a";
  s.cgroup_id = id;
  s.usage_bytes = usage;
  s.peak_bytes = peak;
  return s;
}

WindowStats only(const std::vector<Sample>& v, TimeRange r = {}) {
  auto w = window_stats(v, r);
  REQUIRE(w.ok());
  return w->at("/a");
}
}  // namespace

TEST_CASE("a watermark rise between samples raises max to the new peak", "[stats]") {
  auto w = only({at(1, 100, 150), at(2, 100, 150), at(3, 110, 500), at(4, 100, 500)});
  CHECK(w.max_bytes == 500);
  CHECK(w.max_from_watermark);
  // Only max: quantiles and average describe the samples taken.
  CHECK(w.median_bytes == 100);
  CHECK(w.p95_bytes == 110);
  CHECK(w.avg_bytes == 103);
}

TEST_CASE("a watermark that did not rise inside the window says nothing", "[stats]") {
  // The peak of 900 was set before the window: not evidence about the window.
  auto w = only({at(1, 100, 900), at(2, 120, 900), at(3, 110, 900)});
  CHECK(w.max_bytes == 120);
  CHECK_FALSE(w.max_from_watermark);
}

TEST_CASE("a rise before the window's first sample is not counted", "[stats]") {
  std::vector<Sample> v{at(1, 100, 100), at(10, 100, 800), at(11, 100, 800)};
  auto inside = only(v, {5 * kSec, 20 * kSec});
  CHECK(inside.max_bytes == 100);
  auto whole = only(v);
  CHECK(whole.max_bytes == 800);
}

TEST_CASE("unknown watermark (0) and a recreated cgroup infer nothing", "[stats]") {
  auto unknown = only({at(1, 100, 0), at(2, 100, 700)});
  CHECK(unknown.max_bytes == 100);
  // Same path, new cgroup_id: the new cgroup's watermark starts afresh.
  auto recreated = only({at(1, 100, 300, 7), at(2, 50, 600, 8)});
  CHECK(recreated.max_bytes == 100);
  auto same = only({at(1, 100, 300, 7), at(2, 50, 600, 7)});
  CHECK(same.max_bytes == 600);
}

TEST_CASE("a watermark reset (peak fell) is not a rise", "[stats]") {
  auto w = only({at(1, 100, 900), at(2, 100, 120), at(3, 100, 120)});
  CHECK(w.max_bytes == 100);
}

TEST_CASE("a sample above the watermark rise keeps the sample max", "[stats]") {
  auto w = only({at(1, 100, 150), at(2, 900, 400)});
  CHECK(w.max_bytes == 900);
  CHECK_FALSE(w.max_from_watermark);
}
