// The rescue's pure decisions taken out of the agent: when a child is pressed
// at its limit, and how a cgroup is armed (v1 flag, v2 guard). Tables.
#include <catch2/catch.hpp>

#include "policy/arming.hpp"
#include "policy/pressure.hpp"
#include "util/units.hpp"

using namespace ow;
using namespace ow::policy;

namespace {
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t GiB = 1ull << 30;
}  // namespace

TEST_CASE("guard distance: 8 MiB, or 2 % of a big limit", "[policy][pressure]") {
  struct Row { uint64_t limit, distance; };
  const Row rows[] = {
      {64 * MiB, 8 * MiB},  {400 * MiB, 8 * MiB},
      {1 * GiB, static_cast<uint64_t>(0.02 * double(GiB))},  // 20.48 MiB, truncated to the byte
      {10 * GiB, static_cast<uint64_t>(0.02 * double(10 * GiB))},
      {kUnlimited, kUnlimited},
  };
  for (const auto& r : rows) {
    INFO("limit " << r.limit);
    CHECK(guard_distance(r.limit) == r.distance);
  }
}

TEST_CASE("limit signal: near a set limit and hit since the last look", "[policy][pressure]") {
  // 100 MiB limit: "near" is usage >= 92 MiB.
  struct Row {
    const char* what;
    ChildLook look;
    bool signal;
  };
  const uint64_t L = 100 * MiB;
  const Row rows[] = {
      {"near, failcnt grew", {true, 95 * MiB, L, 5, 4, 0, 0, false}, true},
      {"exactly at the guard distance", {true, 92 * MiB, L, 5, 4, 0, 0, false}, true},
      {"a byte short of the distance", {true, 92 * MiB - 1, L, 5, 4, 0, 0, false}, false},
      {"first look: nothing to compare with", {false, 99 * MiB, L, 5, 0, 0, 0, false}, false},
      {"near, nothing hit it", {true, 99 * MiB, L, 4, 4, 0, 0, false}, false},
      {"far from the limit though hit (a burst that passed)", {true, 50 * MiB, L, 9, 4, 0, 0, false}, false},
      {"no limit", {true, 99 * MiB, kUnlimited, 9, 4, 0, 0, false}, false},
      {"usage above the limit (v2 after a lowered max)", {true, 120 * MiB, L, 5, 4, 0, 0, false}, true},
      {"guarded, throttled at our memory.high", {true, 95 * MiB, L, 4, 4, 3, 2, true}, true},
      {"not guarded: high events are someone else's", {true, 95 * MiB, L, 4, 4, 3, 2, false}, false},
      {"guarded, no new throttle", {true, 95 * MiB, L, 4, 4, 3, 3, true}, false},
      {"near kUnlimited usage does not wrap", {true, kUnlimited - 1, L, 5, 4, 0, 0, false}, true},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    CHECK(limit_signal(r.look) == r.signal);
  }
}

TEST_CASE("short of memory: what the page cache cannot give back", "[policy][pressure]") {
  struct Row { uint64_t usage, file, limit; bool short_; };
  const uint64_t L = 100 * MiB;
  const Row rows[] = {
      {99 * MiB, 0, L, true},               // all anonymous
      {99 * MiB, 50 * MiB, L, false},       // half of it clean cache: the kernel reclaims it
      {99 * MiB, 7 * MiB, L, true},         // 92 MiB hard: at the distance
      {99 * MiB, 7 * MiB + 1, L, false},    // a byte of cache more: not yet
      {10 * MiB, 20 * MiB, L, false},       // file above usage (stat and usage read apart): no underflow
      {99 * MiB, 0, kUnlimited, false},     // no limit, never short
      {2 * GiB, 0, 1 * GiB, true},          // above the limit
  };
  for (const auto& r : rows) {
    INFO("usage " << r.usage << " file " << r.file << " limit " << r.limit);
    CHECK(short_of_memory(r.usage, r.file, r.limit) == r.short_);
  }
}

TEST_CASE("v1 arming: whose oom_kill_disable it is decides", "[policy][arming]") {
  struct Row { bool root, reads_1, journalled; V1Arm step; };
  const Row rows[] = {
      {true, false, false, V1Arm::arm},         // a parent reading 0: journal, write 1
      {true, true, false, V1Arm::leave},        // someone else set it: never touched
      {true, true, true, V1Arm::arm},           // ours from an earlier run: armed again
      {true, false, true, V1Arm::arm},
      {false, false, false, V1Arm::arm},        // a child born before its parent was armed
      {false, true, false, V1Arm::watch_only},  // born armed: inherited from its parent
      {false, true, true, V1Arm::watch_only},
  };
  for (const auto& r : rows) {
    INFO("root " << r.root << " reads 1 " << r.reads_1 << " journalled " << r.journalled);
    CHECK(v1_arm_step(r.root, r.reads_1, r.journalled) == r.step);
  }
}

TEST_CASE("v2 guard: only our own memory.high is moved", "[policy][arming]") {
  struct Row { uint64_t ours, high; bool is_ours; };
  const Row rows[] = {
      {0, kUnlimited, true},        // "max", none set by us: ours to set
      {0, 90 * MiB, false},         // someone else's guard
      {90 * MiB, 90 * MiB, true},   // the one we wrote
      {90 * MiB, 80 * MiB, false},  // changed behind our back
      {90 * MiB, kUnlimited, false},
  };
  for (const auto& r : rows) {
    INFO("ours " << r.ours << " high " << r.high);
    CHECK(guard_is_ours(r.ours, r.high) == r.is_ours);
  }
}

TEST_CASE("v2 guard: what is written follows memory.max", "[policy][arming]") {
  struct Row { const char* what; uint64_t high, max, usage; std::optional<uint64_t> write; };
  const Row rows[] = {
      {"first guard below a new max", kUnlimited, 100 * MiB, 10 * MiB, 92 * MiB},
      {"already right", 92 * MiB, 100 * MiB, 10 * MiB, std::nullopt},
      {"max raised: the guard follows", 92 * MiB, 200 * MiB, 10 * MiB, 192 * MiB},
      {"max lowered under usage + gap: no room, taken off", 92 * MiB, 100 * MiB, 99 * MiB + 512 * 1024,
       kUnlimited},
      {"no max and no guard: nothing", kUnlimited, kUnlimited, 10 * MiB, std::nullopt},
      {"max removed: the guard comes off", 92 * MiB, kUnlimited, 10 * MiB, kUnlimited},
      {"usage pushes the guard up to usage + 1 MiB", kUnlimited, 100 * MiB, 95 * MiB, 96 * MiB},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    CHECK(guard_write(r.high, r.max, r.usage) == r.write);
  }
}
