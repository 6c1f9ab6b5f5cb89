// The daemon's live usage window: figures with their history span, and the
// growth rate that sizes a grant.
#include <catch2/catch.hpp>

#include "rescue/usage_window.hpp"

using ow::rescue::UsageWindow;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr uint64_t kMiB = 1 << 20;
}  // namespace

TEST_CASE("usage window: figures carry how much history they cover", "[usage_window]") {
  UsageWindow w(600 * kSec);
  CHECK_FALSE(w.figures("/a", 100 * kSec).has_stats);
  for (int i = 0; i < 10; ++i) w.add("/a", (100 + i) * kSec, (10 + i) * kMiB);
  auto f = w.figures("/a", 110 * kSec);
  CHECK(f.has_stats);
  CHECK(f.span_ns == 10 * kSec);
  CHECK(f.min_bytes == 10 * kMiB);
  CHECK(f.max_bytes == 19 * kMiB);
  w.prune(705 * kSec);  // drops samples before 105 s
  CHECK(w.figures("/a", 705 * kSec).span_ns == 600 * kSec);
}

TEST_CASE("usage window: growth rate from the oldest sample in the lookback", "[usage_window]") {
  UsageWindow w(600 * kSec);
  // 4 MiB a second from 48 MiB, after an earlier jump from 0 outside the lookback.
  w.add("/a", 90 * kSec, 0);
  for (int i = 0; i <= 4; ++i) w.add("/a", (96 + i) * kSec, (48 + 4 * i) * kMiB);
  CHECK(w.growth_rate("/a", 100 * kSec, 64 * kMiB, 5 * kSec) == 4 * kMiB);
  CHECK(w.growth_rate("/a", 100 * kSec, 40 * kMiB, 5 * kSec) == 0);  // shrinking
  CHECK(w.growth_rate("/b", 100 * kSec, 64 * kMiB, 5 * kSec) == 0);  // no samples
  // A sample just taken: one step is not a rate; at least a second apart.
  UsageWindow n(600 * kSec);
  n.add("/a", 100 * kSec - kSec / 10, 60 * kMiB);
  CHECK(n.growth_rate("/a", 100 * kSec, 64 * kMiB, 5 * kSec) == 4 * kMiB);
}
