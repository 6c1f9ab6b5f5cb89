// Cooldowns, grants in a row, donor history, the per-cgroup cap, no oscillation, the History returned by
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

TEST_CASE("the cooldown never refuses a receiver: one that just donated is served", "[policy]") {
  for (int64_t ago : {1 * kSec, 10 * kSec, 29 * kSec, 31 * kSec}) {
    INFO("donated " << ago << " ns ago");
    auto pl = plan(incident(), Params{}, acted("/p/a", Role::donated, ago));
    CHECK(pl.result == Outcome::planned);
    CHECK(pl.added_bytes == 16 * MiB);
    CHECK(pl.streak == 1);
  }
}

TEST_CASE("grants in a row: siblings keep giving and the min step doubles each time", "[policy]") {
  // /p/b has 150 MiB above its floor (250 MiB, its window max); /p/c is busy.
  struct Row { uint32_t prior_streak; int64_t ago; uint32_t streak; Outcome result; uint64_t added; };
  const Row rows[] = {
      {1, 10 * kSec, 2, Outcome::planned, 32 * MiB},
      {2, 10 * kSec, 3, Outcome::planned, 64 * MiB},
      {3, 29 * kSec, 4, Outcome::planned, 128 * MiB},
      {4, 1 * kSec, 5, Outcome::insufficient, 150 * MiB},  // 256 wanted, /p/b gives all it safely can
      {4, 30 * kSec, 1, Outcome::planned, 16 * MiB},       // the cooldown is over: a new incident
  };
  for (const auto& r : rows) {
    INFO("prior streak " << r.prior_streak << ", " << r.ago << " ns ago");
    History h;
    h.last["/p/a"] = {kNow - r.ago, Role::received, r.prior_streak};
    auto pl = plan(needs_siblings(), strict(), h);
    INFO(pl.reason);
    CHECK(pl.streak == r.streak);
    CHECK(pl.result == r.result);
    CHECK(pl.added_bytes == r.added);
    CHECK(new_limit(pl, "/p/b") == 400 * MiB - r.added);
    CHECK(new_limit(pl, "/p/b") >= 250 * MiB);
    auto next = record(h, pl, kNow);
    CHECK(next.last.at("/p/a").streak == r.streak);
  }
}

TEST_CASE("grants in a row: a limit reset since the last grant starts a new streak", "[policy]") {
  History h;
  h.last["/p/a"] = {kNow - 10 * kSec, Role::received, 3, 260 * MiB};  // the last grant left 260 MiB
  auto in = incident();  // /p/a at 200 MiB: someone set it back
  CHECK(plan(in, Params{}, h).streak == 1);
  in.receiver.limit_bytes = in.receiver.usage_bytes = 260 * MiB;
  auto pl = plan(in, Params{}, h);
  CHECK(pl.streak == 4);
  CHECK(pl.need_bytes == 128 * MiB);
  CHECK(record(h, pl, kNow).last.at("/p/a").limit_after == 388 * MiB);
}

TEST_CASE("growth rate times the horizon sizes the grant", "[policy]") {
  auto in = needs_siblings();
  in.trigger.growth_bytes_per_s = 10 * MiB;  // 50 MiB over the default 5 s
  auto pl = plan(in, strict(), {});
  CHECK(pl.need_bytes == 50 * MiB);
  CHECK(pl.added_bytes == 50 * MiB);
  CHECK(pl.reason.find("growth 10MiB/s x 5s = 50MiB") != std::string::npos);
  Params p = strict();
  p.horizon_ns = 1 * kSec;
  CHECK(plan(in, p, {}).need_bytes == 16 * MiB);  // 10 MiB < min step
}

TEST_CASE("a sibling that received within the cooldown does not donate; a recent donor gives again", "[policy]") {
  auto pl = plan(needs_siblings(), strict(), acted("/p/b", Role::received, 5 * kSec));
  CHECK(pl.result == Outcome::insufficient);
  CHECK(pl.added_bytes == 0);
  CHECK(pl.reason.find("skipped /p/b: received memory within the cooldown") != std::string::npos);
  CHECK(plan(needs_siblings(), strict(), acted("/p/b", Role::received, 35 * kSec)).added_bytes == 16 * MiB);
  auto again = plan(needs_siblings(), strict(), acted("/p/b", Role::donated, 5 * kSec));
  CHECK(again.result == Outcome::planned);
  CHECK(new_limit(again, "/p/b") == 384 * MiB);
}

TEST_CASE("a sibling with too little history does not donate", "[policy]") {
  auto in = needs_siblings();
  in.siblings[0].window.span_ns = 299 * kSec;
  auto pl = plan(in, strict(), {});
  INFO(pl.reason);
  CHECK(pl.added_bytes == 0);
  CHECK(pl.reason.find("skipped /p/b: history covers 299s, less than the 5m required") != std::string::npos);
  in.siblings[0].window.span_ns = 300 * kSec;
  CHECK(plan(in, strict(), {}).added_bytes == 16 * MiB);
  Params p = strict();
  p.donor_min_history_ns = 0;
  in.siblings[0].window.span_ns = 0;
  CHECK(plan(in, p, {}).added_bytes == 16 * MiB);
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
  back.parent = cg("/p", 1000 * MiB, 1024 * MiB);  // no headroom: only /p/a could give
  back.siblings = {sib("/p/a", 50 * MiB, 216 * MiB, 100 * MiB, 60 * MiB)};
  auto again = plan(back, strict(), h);
  CHECK(again.result == Outcome::insufficient);
  CHECK(again.adjustments.empty());
  CHECK(again.reason.find("skipped /p/a: received memory within the cooldown") != std::string::npos);

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

TEST_CASE("per-cgroup cap: a receiver's grants in the last 60 s defer pressure grants", "[policy]") {
  struct Row { std::vector<Move> moves; Outcome result; uint64_t added; };
  const Row rows[] = {
      {{}, Outcome::planned, 16 * MiB},
      {{{kNow - 30 * kSec, 50 * MiB, "/p/a"}}, Outcome::rate_limited, 14 * MiB},
      {{{kNow - 61 * kSec, 60 * MiB, "/p/a"}, {kNow - 30 * kSec, 48 * MiB, "/p/a"}}, Outcome::planned, 16 * MiB},
      {{{kNow - 60 * kSec, 64 * MiB, "/p/a"}}, Outcome::planned, 16 * MiB},  // exactly 60 s ago: expired
      {{{kNow - 59 * kSec, 64 * MiB, "/p/a"}}, Outcome::rate_limited, 0},
      {{{kNow - 1 * kSec, 64 * MiB - 1, "/p/a"}}, Outcome::rate_limited, 0},  // < a page left
      {{{kNow - 1 * kSec, 64 * MiB, "/p/b"}}, Outcome::planned, 16 * MiB},    // another cgroup's grants
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
  big.moves = {{kNow - kSec, 100ull << 30, "/p/a"}};
  CHECK(plan(incident(), none, big).result == Outcome::planned);
}

TEST_CASE("per-cgroup cap: a pending OOM or a kill is served past it", "[policy]") {
  History h;
  h.moves = {{kNow - kSec, 64 * MiB, "/p/a"}};
  Params p;
  p.max_moved_per_minute_bytes = 64 * MiB;
  for (auto kind : {TriggerKind::oom_pending, TriggerKind::oom_kill}) {
    auto pl = plan(incident(0, kind), p, h);
    INFO(pl.reason);
    CHECK(pl.result == Outcome::planned);
    CHECK(pl.added_bytes == 16 * MiB);
    CHECK(pl.reason.find("served anyway") != std::string::npos);
  }
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
