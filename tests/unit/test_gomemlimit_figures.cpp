// Which memory.stat figures a hint round may reuse (gomemlimit/figures.hpp).
#include <catch2/catch.hpp>

#include "gomemlimit/figures.hpp"

using namespace ow;

namespace {
constexpr uint64_t MiB = 1ull << 20;
constexpr int64_t kSec = 1'000'000'000;
}  // namespace

TEST_CASE("gomemlimit: a figure moved by more than max(1 MiB, 1 %)", "[unit][hints]") {
  struct Row {
    uint64_t was, now;
    bool moved;
  };
  const Row rows[] = {
      {0, 0, false},
      {0, MiB, false},              // exactly 1 MiB: not more
      {0, MiB + 1, true},
      {MiB + 1, 0, true},           // either way
      {1000 * MiB, 1010 * MiB, false},  // 1 % of the larger is 10.1 MiB
      {1000 * MiB, 1011 * MiB, true},
      {1011 * MiB, 1000 * MiB, true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.was, r.now);
    CHECK(gomemlimit::moved(r.was, r.now) == r.moved);
  }
}

TEST_CASE("gomemlimit: figures and breakdown hold while nothing they depend on changed", "[unit][hints]") {
  gomemlimit::TargetFigures f;
  f.usage = 100 * MiB;
  f.inactive = 10 * MiB;
  f.eff_limit = 512 * MiB;
  f.limit_at = "/a";
  f.ebpf = 4096;
  f.machine = 8192 * MiB;
  struct Row {
    const char* what;
    uint64_t eff;
    const char* at;
    uint64_t usage, inactive;
    bool holds;
  };
  const Row rows[] = {
      {"unchanged", 512 * MiB, "/a", 100 * MiB, 10 * MiB, true},
      {"small moves", 512 * MiB, "/a", 100 * MiB + MiB / 2, 10 * MiB - MiB / 2, true},
      {"usage moved", 512 * MiB, "/a", 102 * MiB, 10 * MiB, false},
      {"inactive moved", 512 * MiB, "/a", 100 * MiB, 12 * MiB, false},
      {"limit changed", 256 * MiB, "/a", 100 * MiB, 10 * MiB, false},
      {"same limit, other level", 512 * MiB, "/", 100 * MiB, 10 * MiB, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    CHECK(gomemlimit::figures_hold(f, r.eff, r.at, r.usage, r.inactive) == r.holds);
  }
  CHECK(gomemlimit::breakdown_holds(f, 4096, 8192 * MiB));
  CHECK_FALSE(gomemlimit::breakdown_holds(f, 8192, 8192 * MiB));
  CHECK_FALSE(gomemlimit::breakdown_holds(f, 4096, 4096 * MiB));
}

TEST_CASE("gomemlimit: aged figures re-read a few per round", "[unit][hints]") {
  const int64_t max_age = 600 * kSec;
  struct Row {
    size_t cgroups;
    int64_t period_ns;
    size_t budget;
  };
  const Row rows[] = {
      {0, 30 * kSec, 1},
      {1000, 30 * kSec, 51},  // every cgroup re-read within 20 rounds
      {1000, 1 * kSec, 2},
      {10, 600 * kSec, 11},
      {10, 0, 1},             // a period below 1 ns counts as 1 ns
  };
  for (const auto& r : rows) {
    CAPTURE(r.cgroups, r.period_ns);
    CHECK(gomemlimit::aged_reread_budget(r.cgroups, r.period_ns, max_age) == r.budget);
  }
}
