// Cooldowns, the per-minute cap, no oscillation, the History returned by
// record(), and the v2 rescue guard.
#include <catch2/catch.hpp>

#include "policy/rescue.hpp"
#include "test_policy_fixture.hpp"

using namespace owtest::policy;

namespace {
History acted(const std::string& path, Role role, int64_t ago_ns) {
  History h;
  h.last[path] = {kNow - ago_ns, role};
  return h;
}
// Parent full under strict: the need must come from /p/b (spare 150 MiB).
Incident needs_siblings() {
  auto in = incident();
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),
                 sib("/p/c", 300 * MiB, 424 * MiB, 250 * MiB, 350 * MiB)};
  return in;
}
}  // namespace

TEST_CASE("a receiver that just donated is not given memory back (no ping-pong)", "[policy]") {
  struct Row { int64_t ago_ns; Outcome result; uint64_t added; };
  const Row rows[] = {
      {10 * kSec, Outcome::cooldown, 0},
      {30 * kSec - 1, Outcome::cooldown, 0},
      {30 * kSec, Outcome::planned, 16 * MiB},  // cooldown is [ts, ts + 30 s)
      {31 * kSec, Outcome::planned, 16 * MiB},
  };
  for (const auto& r : rows) {
    INFO("donated " << r.ago_ns << " ns ago");
    auto pl = plan(incident(), Params{}, acted("/p/a", Role::donated, r.ago_ns));
    CHECK(pl.result == r.result);
    CHECK(pl.added_bytes == r.added);
  }
}

TEST_CASE("a receiver within its cooldown may take headroom again, not siblings", "[policy]") {
  auto h = acted("/p/a", Role::received, 10 * kSec);
  auto global = plan(incident(), Params{}, h);
  CHECK(global.result == Outcome::planned);
  CHECK(global.source == Source::global);
  CHECK(global.added_bytes == 16 * MiB);

  auto pl = plan(needs_siblings(), strict(), h);
  CHECK(pl.result == Outcome::cooldown);
  CHECK(pl.added_bytes == 0);
  CHECK(pl.adjustments.empty());

  auto later = plan(needs_siblings(), strict(), acted("/p/a", Role::received, 40 * kSec));
  CHECK(later.result == Outcome::planned);
  CHECK(new_limit(later, "/p/b") == 384 * MiB);
}

TEST_CASE("a sibling acted on within the cooldown does not donate", "[policy]") {
  for (Role role : {Role::received, Role::donated}) {
    INFO((role == Role::received ? "received" : "donated"));
    auto pl = plan(needs_siblings(), strict(), acted("/p/b", role, 5 * kSec));
    CHECK(pl.result == Outcome::insufficient);
    CHECK(pl.added_bytes == 0);
    CHECK(pl.reason.find("skipped /p/b: " + std::string(role == Role::received ? "received" : "donated")) !=
          std::string::npos);
    auto later = plan(needs_siblings(), strict(), acted("/p/b", role, 35 * kSec));
    CHECK(later.added_bytes == 16 * MiB);
  }
}

TEST_CASE("no oscillation: A takes from B, then B cannot take from A within the cooldown", "[policy]") {
  auto first = plan(needs_siblings(), strict(), {});
  REQUIRE(first.result == Outcome::planned);
  History h = record({}, first, kNow);
  CHECK(h.last.at("/p/a").role == Role::received);
  CHECK(h.last.at("/p/b").role == Role::donated);

  // Ten seconds later /p/b hits its (lowered) limit; /p/a looks idle.
  Incident back;
  back.trigger = {TriggerKind::pressure, "/p/b", 0, 0, kNow + 10 * kSec};
  back.receiver = cg("/p/b", 384 * MiB, 384 * MiB);
  back.parent = cg("/p", 600 * MiB, 1024 * MiB);
  back.siblings = {sib("/p/a", 50 * MiB, 216 * MiB, 100 * MiB, 60 * MiB)};
  auto again = plan(back, strict(), h);
  CHECK(again.result == Outcome::cooldown);
  CHECK(again.adjustments.empty());

  // And /p/a cannot be asked to give back what it just received by a third cgroup.
  auto third = needs_siblings();
  third.trigger.cgroup = "/p/c";
  third.trigger.now_ns = kNow + 10 * kSec;
  third.receiver = cg("/p/c", 424 * MiB, 424 * MiB);
  third.parent.usage_bytes = 1000 * MiB;  // no headroom: only /p/a could give
  third.siblings = {sib("/p/a", 50 * MiB, 216 * MiB, 100 * MiB, 60 * MiB)};
  auto why = plan(third, strict(), h);
  CHECK(why.added_bytes == 0);
  CHECK(why.reason.find("skipped /p/a: received memory within the cooldown") != std::string::npos);
}

TEST_CASE("per-minute cap: grants in the last 60 s count, older ones expire", "[policy]") {
  struct Row { std::vector<Move> moves; Outcome result; uint64_t added; };
  const Row rows[] = {
      {{}, Outcome::planned, 16 * MiB},
      {{{kNow - 30 * kSec, 50 * MiB}}, Outcome::rate_limited, 14 * MiB},
      {{{kNow - 61 * kSec, 60 * MiB}, {kNow - 30 * kSec, 48 * MiB}}, Outcome::planned, 16 * MiB},
      {{{kNow - 60 * kSec, 64 * MiB}}, Outcome::planned, 16 * MiB},  // exactly 60 s ago: expired
      {{{kNow - 59 * kSec, 64 * MiB}}, Outcome::rate_limited, 0},
      {{{kNow - 1 * kSec, 64 * MiB - 1}}, Outcome::rate_limited, 0},  // < a page left
  };
  for (const auto& r : rows) {
    History h;
    h.moves = r.moves;
    Params p;
    p.max_moved_per_minute_bytes = 64 * MiB;
    auto pl = plan(incident(), p, h);
    INFO(pl.reason);
    CHECK(pl.result == r.result);
    CHECK(pl.added_bytes == r.added);
    CHECK(pl.adjustments.size() == (r.added ? 1u : 0u));
  }
  Params none;
  none.max_moved_per_minute_bytes = ow::kUnlimited;
  History big;
  big.moves = {{kNow - kSec, 100ull << 30}};
  CHECK(plan(incident(), none, big).result == Outcome::planned);
}

TEST_CASE("record() adds the grant, prunes old moves, ignores empty plans", "[policy]") {
  History h;
  h.moves = {{kNow - 90 * kSec, 1 * MiB}, {kNow - 10 * kSec, 2 * MiB}};
  auto pl = plan(incident(), Params{}, h);
  auto next = record(h, pl, kNow);
  REQUIRE(next.moves.size() == 2);
  CHECK(next.moves[0].bytes == 2 * MiB);
  CHECK(next.moves[1].bytes == 16 * MiB);
  CHECK(moved_last_minute(next, kNow) == 18 * MiB);
  CHECK(next.last.size() == 1);

  Plan empty;
  empty.oom_cgroup = "/p/a";
  auto same = record({}, empty, kNow);
  CHECK(same.moves.empty());
  CHECK(same.last.empty());
}

TEST_CASE("rescue guard: memory.high below memory.max, never below usage + gap", "[policy]") {
  struct Row { uint64_t max, usage; std::optional<uint64_t> high; };
  const Row rows[] = {
      {64 * MiB, 10 * MiB, 56 * MiB},                // 8 MiB guard
      {1024 * MiB, 100 * MiB, 1052266496},           // 2 % guard, page-rounded down
      {64 * MiB, 60 * MiB, 61 * MiB},                // usage + 1 MiB gap wins
      {64 * MiB, 60 * MiB + 1, 61 * MiB + kPage},    // ... page-rounded up
      {64 * MiB, 63 * MiB, std::nullopt},            // no room strictly below max
      {ow::kUnlimited, 10 * MiB, std::nullopt},
      {4 * MiB, 0, 1 * MiB},                         // guard larger than max
  };
  for (const auto& r : rows) {
    INFO("max " << r.max << " usage " << r.usage);
    CHECK(rescue_high_bytes(r.max, r.usage) == r.high);
  }
  GuardParams g;
  g.guard_bytes = 32 * MiB;
  g.guard_fraction = 0;
  CHECK(rescue_high_bytes(128 * MiB, 0, g) == 96 * MiB);
}
