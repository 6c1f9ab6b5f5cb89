// Reallocation plan: need, global headroom (physical/strict, unlimited
// parent), ceiling, and the receiver without a limit. Donors are in
// test_policy_donors.cpp, cooldown and rate cap in test_policy_limits.cpp.
#include <catch2/catch.hpp>

#include "test_policy_fixture.hpp"

using namespace owtest::policy;

TEST_CASE("need = page_up(max(victim rss, growth, min step))", "[policy]") {
  struct Row { TriggerKind kind; uint64_t rss, growth, min_step, need; };
  const Row rows[] = {
      {TriggerKind::pressure, 0, 0, 16 * MiB, 16 * MiB},
      {TriggerKind::oom_kill, 30 * MiB + 1, 0, 16 * MiB, 30 * MiB + kPage},
      {TriggerKind::oom_kill, 30 * MiB, 40 * MiB, 16 * MiB, 40 * MiB},
      {TriggerKind::oom_pending, 0, 1, 16 * MiB, 16 * MiB},
      {TriggerKind::pressure, 0, 5000, 100, 8192},        // growth rounded up to 2 pages
      {TriggerKind::pressure, 0, 0, 4097, 8192},          // min step rounded up too
  };
  for (const auto& r : rows) {
    auto in = incident(r.growth, r.kind);
    in.trigger.victim_rss_bytes = r.rss;
    Params p;
    p.min_step_bytes = r.min_step;
    INFO("rss " << r.rss << " growth " << r.growth << " step " << r.min_step);
    auto pl = plan(in, p, {});
    CHECK(pl.need_bytes == r.need);
    CHECK(pl.added_bytes == r.need);
    CHECK(pl.result == Outcome::planned);
    CHECK(new_limit(pl, "/p/a") == 200 * MiB + r.need);
  }
}

TEST_CASE("global headroom covers the need: receiver raised, nobody lowered", "[policy]") {
  auto in = incident(0, TriggerKind::oom_kill);
  in.trigger.victim_rss_bytes = 30 * MiB + 1;
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB)};
  auto pl = plan(in, Params{}, {});
  // 1 GiB - 600 MiB - 5 % of 1 GiB (53687091) = 390909133, page-rounded down.
  CHECK(pl.headroom_bytes == 390905856);
  CHECK(pl.result == Outcome::planned);
  CHECK(pl.source == Source::global);
  CHECK(pl.global_bytes == 30 * MiB + kPage);
  REQUIRE(pl.adjustments.size() == 1);
  CHECK(pl.adjustments[0].path == "/p/a");
  CHECK(pl.adjustments[0].receiver);
  CHECK(pl.adjustments[0].old_limit_bytes == 200 * MiB);
  CHECK(pl.adjustments[0].new_limit_bytes == 230 * MiB + kPage);
  CHECK(pl.adjustments[0].reduced_bytes == 0);
  CHECK(pl.reason.find("parent headroom") != std::string::npos);
}

TEST_CASE("headroom keeps the reserve: fraction or absolute bytes", "[policy]") {
  struct Row { double fraction; uint64_t bytes; uint64_t parent_usage, headroom; };
  const Row rows[] = {
      {0.05, 0, 600 * MiB, 390905856},
      {0.0, 0, 600 * MiB, 424 * MiB},
      {0.05, 400 * MiB, 600 * MiB, 24 * MiB},   // bytes larger than 5 %: bytes win
      {0.05, 0, 1000 * MiB, 0},                 // usage eats into the reserve
      {0.05, 0, 2000 * MiB, 0},                 // usage above the limit: no wrap-around
  };
  for (const auto& r : rows) {
    auto in = incident();
    in.parent.usage_bytes = r.parent_usage;
    Params p;
    p.reserve_fraction = r.fraction;
    p.reserve_bytes = r.bytes;
    INFO("fraction " << r.fraction << " bytes " << r.bytes << " usage " << r.parent_usage);
    auto pl = plan(in, p, {});
    CHECK(pl.headroom_bytes == r.headroom);
    CHECK(pl.global_bytes == std::min<uint64_t>(r.headroom, 16 * MiB));
  }
}

TEST_CASE("strict reservation: a fully reserved parent forces siblings", "[policy]") {
  auto in = incident();
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),
                 sib("/p/c", 300 * MiB, 424 * MiB, 250 * MiB, 350 * MiB)};  // 200+400+424 = 1 GiB
  auto phys = plan(in, Params{}, {});
  CHECK(phys.source == Source::global);
  CHECK(phys.added_bytes == 16 * MiB);

  auto pl = plan(in, strict(), {});
  CHECK(pl.headroom_bytes == 0);
  CHECK(pl.result == Outcome::planned);
  CHECK(pl.source == Source::siblings);
  CHECK(pl.global_bytes == 0);
  REQUIRE(pl.adjustments.size() == 2);  // donor first, receiver last
  CHECK(pl.adjustments[0].path == "/p/b");
  CHECK(pl.adjustments[0].old_limit_bytes == 400 * MiB);
  CHECK(pl.adjustments[0].new_limit_bytes == 384 * MiB);
  CHECK(pl.adjustments[0].reduced_bytes == 16 * MiB);
  CHECK(pl.adjustments[1].path == "/p/a");
  CHECK(pl.adjustments[1].new_limit_bytes == 216 * MiB);
}

TEST_CASE("strict: the parent's headroom is used first, siblings give the rest", "[policy]") {
  auto in = incident(40 * MiB);
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),
                 sib("/p/c", 300 * MiB, 400 * MiB, 250 * MiB, 350 * MiB)};  // children 1000 MiB
  auto pl = plan(in, strict(), {});
  CHECK(pl.headroom_bytes == 24 * MiB);
  CHECK(pl.global_bytes == 24 * MiB);
  CHECK(pl.added_bytes == 40 * MiB);
  CHECK(pl.source == Source::siblings);
  CHECK(new_limit(pl, "/p/b") == 384 * MiB);
  CHECK(new_limit(pl, "/p/a") == 240 * MiB);
  CHECK(new_limit(pl, "/p/c") == 0);  // above its median: untouched
  // Sum of children after the plan stays within the parent's limit.
  CHECK(200 * MiB + 16 * MiB + 384 * MiB + 400 * MiB + 24 * MiB <= 1024 * MiB);
}

TEST_CASE("strict: a sibling without a limit means no global headroom", "[policy]") {
  auto in = incident();
  in.siblings = {cg("/p/x", 10 * MiB, ow::kUnlimited)};
  auto pl = plan(in, strict(), {});
  CHECK(pl.headroom_bytes == 0);
  CHECK(pl.result == Outcome::insufficient);
  CHECK(pl.added_bytes == 0);
  CHECK(pl.source == Source::none);
  CHECK(pl.adjustments.empty());
}

TEST_CASE("unlimited parent: physical unbounded, strict uses machine memory or nothing", "[policy]") {
  auto in = incident();
  in.parent.limit_bytes = ow::kUnlimited;
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),
                 sib("/p/c", 300 * MiB, 424 * MiB, 250 * MiB, 350 * MiB)};

  auto phys = plan(in, Params{}, {});
  CHECK(phys.headroom_bytes == ow::kUnlimited);
  CHECK(phys.source == Source::global);
  CHECK(new_limit(phys, "/p/a") == 216 * MiB);

  auto unknown = plan(in, strict(), {});
  CHECK(unknown.headroom_bytes == 0);
  CHECK(unknown.source == Source::siblings);
  CHECK(new_limit(unknown, "/p/b") == 384 * MiB);
  CHECK(unknown.reason.find("machine memory is unknown") != std::string::npos);

  auto p = strict();
  p.machine_memory_bytes = 2048 * MiB;
  auto machine = plan(in, p, {});
  // min(2 GiB - 600 MiB - 5 %, 2 GiB - children 1 GiB) = 1 GiB.
  CHECK(machine.headroom_bytes == 1024 * MiB);
  CHECK(machine.source == Source::global);
}

TEST_CASE("ceiling caps the need and is never exceeded", "[policy]") {
  struct Row { uint64_t ceiling; Outcome result; uint64_t added; };
  const Row rows[] = {
      {ow::kUnlimited, Outcome::planned, 16 * MiB},
      {1024 * MiB, Outcome::planned, 16 * MiB},
      {210 * MiB + 100, Outcome::planned, 10 * MiB},  // room page-rounded down
      {200 * MiB + 4095, Outcome::at_ceiling, 0},     // less than a page of room
      {200 * MiB, Outcome::at_ceiling, 0},
      {100 * MiB, Outcome::at_ceiling, 0},            // already above: never lowered
  };
  for (const auto& r : rows) {
    auto in = incident();
    in.receiver.config.ceiling_bytes = r.ceiling;
    INFO("ceiling " << r.ceiling);
    auto pl = plan(in, Params{}, {});
    CHECK(pl.result == r.result);
    CHECK(pl.need_bytes == r.added);
    CHECK(pl.added_bytes == r.added);
    if (r.added) {
      CHECK(new_limit(pl, "/p/a") == 200 * MiB + r.added);
      CHECK(new_limit(pl, "/p/a") <= r.ceiling);
    } else {
      CHECK(pl.adjustments.empty());
    }
  }
}

TEST_CASE("a receiver without a limit has nothing to raise", "[policy]") {
  auto in = incident();
  in.receiver.limit_bytes = ow::kUnlimited;
  auto pl = plan(in, Params{}, {});
  CHECK(pl.result == Outcome::no_limit);
  CHECK(pl.added_bytes == 0);
  CHECK(pl.adjustments.empty());
  CHECK(std::string(to_string(pl.result)) == "no_limit");
}
