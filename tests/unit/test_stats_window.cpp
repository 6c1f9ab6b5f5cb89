// Window statistics on raw samples: exact nearest-rank quantiles, one sample,
// ties, gaps, unsorted input, cgroups that come and go, and the error cases.
#include <catch2/catch.hpp>

#include "stats/quantile.hpp"
#include "stats/window.hpp"

using ow::sampler::Sample;
using namespace ow::stats;

namespace {
constexpr int64_t kSec = 1'000'000'000;

Sample at(int64_t sec, const std::string& cg, uint64_t usage, uint64_t peak = 0, uint64_t id = 7) {
  Sample s;
  s.ts_ns = sec * kSec;
  s.cgroup = cg;
  s.cgroup_id = id;
  s.usage_bytes = usage;
  s.peak_bytes = peak;
  return s;
}

WindowStats only(const std::vector<Sample>& v, TimeRange r = {}) {
  auto w = window_stats(v, r);
  REQUIRE(w.ok());
  REQUIRE(w->size() == 1);
  return w->begin()->second;
}
}  // namespace

TEST_CASE("nearest rank: the k-th smallest, k = ceil(pct * n / 100)", "[stats]") {
  CHECK(nearest_rank(1, 50) == 1);
  CHECK(nearest_rank(4, 50) == 2);  // lower median: a value that was observed
  CHECK(nearest_rank(5, 50) == 3);
  CHECK(nearest_rank(20, 95) == 19);  // 0.95 * 20 in doubles would risk 20
  CHECK(nearest_rank(21, 95) == 20);
  CHECK(nearest_rank(100, 95) == 95);
  CHECK(nearest_rank(3, 95) == 3);
}

TEST_CASE("the docs' example: 1, 2, 3", "[stats]") {
  auto w = only({at(1, "/a", 3), at(2, "/a", 1), at(3, "/a", 2)});
  CHECK(w.min_bytes == 1);
  CHECK(w.max_bytes == 3);
  CHECK(w.median_bytes == 2);
  CHECK(w.p95_bytes == 3);
  CHECK(w.avg_bytes == 2);
  CHECK(w.samples == 3);
  CHECK(w.exact);
}

TEST_CASE("one sample: every statistic is that sample", "[stats]") {
  auto w = only({at(5, "/a", 4096)});
  CHECK((w.min_bytes == 4096 && w.max_bytes == 4096 && w.median_bytes == 4096 && w.p95_bytes == 4096));
  CHECK(w.avg_bytes == 4096);
  CHECK(w.samples == 1);
  CHECK(w.first_ts_ns == 5 * kSec);
  CHECK(w.last_ts_ns == 5 * kSec);
}

TEST_CASE("ties and an even count", "[stats]") {
  auto w = only({at(1, "/a", 10), at(2, "/a", 10), at(3, "/a", 10), at(4, "/a", 20)});
  CHECK(w.median_bytes == 10);
  CHECK(w.p95_bytes == 20);
  CHECK(w.avg_bytes == 13);  // 12.5 rounds to nearest: 13
  auto all_same = only({at(1, "/a", 7), at(2, "/a", 7)});
  CHECK((all_same.min_bytes == 7 && all_same.p95_bytes == 7 && all_same.median_bytes == 7));
}

TEST_CASE("p95 over 1..100 is 95; input order does not matter", "[stats]") {
  std::vector<Sample> v;
  for (int i = 100; i >= 1; --i) v.push_back(at(i * 7 % 101, "/a", static_cast<uint64_t>(i)));
  auto w = only(v);
  CHECK(w.median_bytes == 50);
  CHECK(w.p95_bytes == 95);
  CHECK(w.avg_bytes == 51);  // 50.5 rounds up
}

TEST_CASE("gaps: the window counts the samples there are, no interpolation", "[stats]") {
  auto w = only({at(0, "/a", 100), at(1, "/a", 100), at(3600, "/a", 900)});
  CHECK(w.samples == 3);
  CHECK(w.median_bytes == 100);
  CHECK(w.avg_bytes == 367);
}

TEST_CASE("the window is inclusive at both ends and excludes the rest", "[stats]") {
  std::vector<Sample> v{at(9, "/a", 1), at(10, "/a", 2), at(20, "/a", 3), at(21, "/a", 4)};
  auto w = only(v, {10 * kSec, 20 * kSec});
  CHECK(w.samples == 2);
  CHECK(w.min_bytes == 2);
  CHECK(w.max_bytes == 3);
}

TEST_CASE("cgroups that appear and vanish report their own sample counts", "[stats]") {
  std::vector<Sample> v{at(1, "/a", 1), at(2, "/a", 1), at(3, "/a", 1), at(2, "/b", 5), at(3, "/c", 9)};
  auto w = window_stats(v, {});
  REQUIRE(w.ok());
  CHECK(w->at("/a").samples == 3);
  CHECK(w->at("/b").samples == 1);
  CHECK(w->at("/c").samples == 1);
  CHECK(w->at("/c").first_ts_ns == 3 * kSec);
}

TEST_CASE("an empty window is an error, not zeros", "[stats]") {
  std::vector<Sample> v{at(1, "/a", 1)};
  auto w = window_stats(v, {5 * kSec, 6 * kSec});
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message().find("no samples") != std::string::npos);
  CHECK_FALSE(window_stats(std::vector<Sample>{}, {}).ok());
}

TEST_CASE("end before start is an error naming both times", "[stats]") {
  std::vector<Sample> v{at(1, "/a", 1)};
  auto w = window_stats(v, {20 * kSec, 10 * kSec});
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message().find("1970-01-01T00:00:10.000Z") != std::string::npos);
  CHECK(w.error().message().find("1970-01-01T00:00:20.000Z") != std::string::npos);
  CHECK(window_stats(v, {10 * kSec, 10 * kSec}).ok() == false);  // valid range, but empty
  CHECK(check_range({10 * kSec, 10 * kSec}).ok());
}

TEST_CASE("huge values do not overflow the average", "[stats]") {
  uint64_t big = UINT64_MAX - 10;
  auto w = only({at(1, "/a", big), at(2, "/a", big)});
  CHECK(w.avg_bytes == big);
}
