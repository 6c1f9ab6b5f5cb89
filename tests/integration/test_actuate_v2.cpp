// Root, real cgroups under the test's own cgroup: actuate::Actuator lowering
// donors and raising the receiver (LimitChange::receiver).
//
// [integration][actuate] runs on both versions: on v1 (this host) the path
// is the one it always was (one checked write per change, EBUSY below
// usage); in the VM tier's integration run it is the v2 path.
//
// [.][actuate_v2] is hidden: real v2 donors that grew between the plan and
// its application, which only the v2 guests have. The VM tier runs it in the
// scenario actuate_v2_donor (tests/vm/scenarios.sh); on v1 it fails rather
// than pass without testing anything.
#include <catch2/catch.hpp>
#include <unistd.h>

#include "actuate/apply.hpp"
#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "util/units.hpp"

using ow::cg::Hierarchy;
using ow::cg::Version;

namespace {
constexpr uint64_t kMiB = 1 << 20;

using owtest::child;

struct Intent : owtest::TmpTree {
  Intent() : TmpTree("owtest-actuate") {}
  std::string file() const { return path + "/intent.json"; }
};

// A process holding `size` of anonymous memory in rel until stopped.
std::unique_ptr<owtest::Background> hold_in(const std::string& rel, const char* size) {
  return owtest::start({owtest::oomwatch_bin(), "test-memory", "--json", "--cgroup", rel, "--alloc", size, "--hold",
                        "1h"});
}

// Waits until rel uses at least `bytes` (the holders have charged it all).
bool uses(const Hierarchy& h, const std::string& rel, uint64_t bytes) {
  return owtest::wait_for([&] { return h.usage(rel).value_or(0) >= bytes; }, 30000);
}

uint64_t oom_kills(const Hierarchy& h, const std::string& rel) {
  auto e = h.events(rel);
  REQUIRE(e);
  return e->oom_kill;
}

void require_v2(const Hierarchy& h) {
  if (h.version() != Version::V2)
    FAIL("needs cgroup v2 (memory.high reclaim before memory.max): run it in the VM tier, "
         "VM_SCENARIOS=actuate_v2_donor tools/vm/test-vm.sh build");
}

}  // namespace

TEST_CASE("actuate: a donor lowered and the flagged receiver raised, each read back", "[integration][actuate]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto d = child(h, parent.path(), "donor", 128 * kMiB);
  auto r = child(h, parent.path(), "recv", 64 * kMiB);
  auto load = hold_in(d.path(), "16M");
  REQUIRE(uses(h, d.path(), 16 * kMiB));
  uint64_t kills = oom_kills(h, d.path());
  Intent in;
  ow::actuate::Actuator act(h, in.file());
  auto res = act.apply({{d.path(), 128 * kMiB, 96 * kMiB}, {r.path(), 64 * kMiB, 96 * kMiB, true}});
  INFO(res.error);
  REQUIRE(res.ok);
  CHECK_FALSE(res.rolled_back);
  CHECK(res.skipped.empty());
  CHECK(res.skip_reasons.empty());
  CHECK(res.withheld_bytes == 0);
  REQUIRE(res.applied.size() == 2);
  CHECK(res.applied[0].cgroup == d.path());
  CHECK(res.applied[0].new_limit_bytes == 96 * kMiB);
  CHECK_FALSE(res.applied[0].receiver);
  CHECK(res.applied[1].cgroup == r.path());
  CHECK(res.applied[1].new_limit_bytes == 96 * kMiB);
  CHECK(res.applied[1].receiver);
  CHECK(*h.limit(d.path()) == 96 * kMiB);
  CHECK(*h.limit(r.path()) == 96 * kMiB);
  if (h.version() == Version::V2) CHECK(*h.high(d.path()) == ow::kUnlimited);  // memory.high back to "max"
  CHECK(owtest::alive(load->pid));
  CHECK(oom_kills(h, d.path()) == kills);
  CHECK_FALSE(owtest::exists(in.file()));
}

TEST_CASE("actuate: a donor cut below its usage: v1 refuses it (EBUSY) and rolls back, v2 skips it",
          "[integration][actuate]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto d = child(h, parent.path(), "donor", 128 * kMiB);
  auto r = child(h, parent.path(), "recv", 64 * kMiB);
  auto load = hold_in(d.path(), "48M");
  REQUIRE(uses(h, d.path(), 48 * kMiB));
  uint64_t kills = oom_kills(h, d.path());
  Intent in;
  ow::actuate::Actuator act(h, in.file());
  auto res = act.apply({{d.path(), 128 * kMiB, 16 * kMiB}, {r.path(), 64 * kMiB, 176 * kMiB, true}});
  INFO(res.error);
  if (h.version() == Version::V1) {
    CHECK_FALSE(res.ok);
    CHECK(res.rolled_back);
    CHECK(res.error.find("Device or resource busy") != std::string::npos);
    CHECK(res.skipped.empty());  // v1 never skips: its kernel refuses
  } else {
    CHECK(res.ok);
    REQUIRE(res.skipped.size() == 1);
    CHECK(res.skipped[0].cgroup == d.path());
    CHECK(res.withheld_bytes == 112 * kMiB);
    CHECK(*h.high(d.path()) == ow::kUnlimited);
  }
  CHECK(res.applied.empty());
  CHECK(*h.limit(d.path()) == 128 * kMiB);
  CHECK(*h.limit(r.path()) == 64 * kMiB);
  CHECK(owtest::alive(load->pid));  // nothing was killed by the cut
  CHECK(oom_kills(h, d.path()) == kills);
  CHECK_FALSE(owtest::exists(in.file()));
}

TEST_CASE("actuate v2: a donor that grew since the plan is skipped, not OOM-killed; the receiver is not raised",
          "[.][actuate_v2]") {
  auto h = owtest::hierarchy();
  require_v2(h);
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto d = child(h, parent.path(), "donor", 200 * kMiB);
  auto r = child(h, parent.path(), "recv", 64 * kMiB);
  auto first = hold_in(d.path(), "40M");
  REQUIRE(uses(h, d.path(), 40 * kMiB));
  // The plan, from the usage now: 40M fits well under 100M.
  uint64_t at_plan = *h.usage(d.path());
  REQUIRE(at_plan + ow::actuate::v2_donor_margin_bytes() <= 100 * kMiB);
  std::vector<ow::actuate::LimitChange> plan{{d.path(), 200 * kMiB, 100 * kMiB},
                                             {r.path(), 64 * kMiB, 164 * kMiB, true}};
  // Before it is applied the donor grows: 80M more, 120M in all.
  auto second = hold_in(d.path(), "80M");
  REQUIRE(uses(h, d.path(), 120 * kMiB));
  uint64_t kills = oom_kills(h, d.path());
  uint64_t high0 = *h.high(d.path());
  Intent in;
  ow::actuate::Actuator act(h, in.file());
  auto res = act.apply(plan);
  INFO(res.error);
  REQUIRE(res.ok);
  REQUIRE(res.skipped.size() == 1);
  REQUIRE(res.skip_reasons.size() == 1);
  INFO(res.skip_reasons[0]);
  CHECK(res.skipped[0].cgroup == d.path());
  CHECK(res.skip_reasons[0].find("above the new limit") != std::string::npos);
  CHECK(res.withheld_bytes == 100 * kMiB);
  CHECK(res.applied.empty());  // the receiver got nothing: not written
  CHECK(*h.limit(d.path()) == 200 * kMiB);
  CHECK(*h.high(d.path()) == high0);
  CHECK(*h.limit(r.path()) == 64 * kMiB);
  ::usleep(300'000);  // a kill would come from the writes above, not later; look again anyway
  CHECK(owtest::alive(first->pid));
  CHECK(owtest::alive(second->pid));
  CHECK(oom_kills(h, d.path()) == kills);
  CHECK(h.usage(d.path()).value_or(0) >= 120 * kMiB);
  CHECK_FALSE(owtest::exists(in.file()));
  // The hazard is real: the same cut written straight to memory.max OOM-kills the donor.
  REQUIRE(h.set_limit(d.path(), 100 * kMiB));
  CHECK(owtest::wait_for([&] { return oom_kills(h, d.path()) > kills; }, 10000));
  CHECK(owtest::wait_for([&] { return !owtest::alive(first->pid) || !owtest::alive(second->pid); }, 10000));
}

TEST_CASE("actuate v2 control: a donor below the new limit is lowered; the receiver gets the whole cut",
          "[.][actuate_v2]") {
  auto h = owtest::hierarchy();
  require_v2(h);
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto d = child(h, parent.path(), "donor", 200 * kMiB);
  auto r = child(h, parent.path(), "recv", 64 * kMiB);
  auto load = hold_in(d.path(), "40M");
  REQUIRE(uses(h, d.path(), 40 * kMiB));
  uint64_t kills = oom_kills(h, d.path());
  Intent in;
  ow::actuate::Actuator act(h, in.file());
  auto res = act.apply({{d.path(), 200 * kMiB, 100 * kMiB}, {r.path(), 64 * kMiB, 164 * kMiB, true}});
  INFO(res.error);
  REQUIRE(res.ok);
  CHECK(res.skipped.empty());
  REQUIRE(res.applied.size() == 2);
  CHECK(res.applied[1].cgroup == r.path());
  CHECK(res.applied[1].new_limit_bytes == 164 * kMiB);
  CHECK(*h.limit(d.path()) == 100 * kMiB);
  CHECK(*h.high(d.path()) == ow::kUnlimited);
  CHECK(*h.limit(r.path()) == 164 * kMiB);
  CHECK(owtest::alive(load->pid));
  CHECK(oom_kills(h, d.path()) == kills);
  CHECK_FALSE(owtest::exists(in.file()));
}

TEST_CASE("actuate v2: two donors with guards, one grew: the receiver gets only the other's cut",
          "[.][actuate_v2]") {
  auto h = owtest::hierarchy();
  require_v2(h);
  auto parent = owtest::make_cgroup(768 * kMiB, "owtest-parent");
  auto small = child(h, parent.path(), "small", 200 * kMiB);
  auto big = child(h, parent.path(), "big", 200 * kMiB);
  auto r = child(h, parent.path(), "recv", 64 * kMiB);
  // Guards below the old limit, as the agent's rescue sets them.
  REQUIRE(h.set_high(small.path(), 190 * kMiB));
  REQUIRE(h.set_high(big.path(), 190 * kMiB));
  auto a = hold_in(small.path(), "40M");
  auto b = hold_in(big.path(), "120M");
  REQUIRE(uses(h, small.path(), 40 * kMiB));
  REQUIRE(uses(h, big.path(), 120 * kMiB));
  uint64_t kills_small = oom_kills(h, small.path()), kills_big = oom_kills(h, big.path());
  Intent in;
  ow::actuate::Actuator act(h, in.file());
  auto res = act.apply({{big.path(), 200 * kMiB, 100 * kMiB},
                        {small.path(), 200 * kMiB, 100 * kMiB},
                        {r.path(), 64 * kMiB, 264 * kMiB, true}});
  INFO(res.error);
  REQUIRE(res.ok);
  REQUIRE(res.skipped.size() == 1);
  CHECK(res.skipped[0].cgroup == big.path());
  REQUIRE(res.applied.size() == 2);
  CHECK(res.applied[0].cgroup == small.path());
  CHECK(res.applied[1].cgroup == r.path());
  CHECK(res.applied[1].new_limit_bytes == 164 * kMiB);  // 64M + (200M - 100M withheld)
  CHECK(*h.limit(r.path()) == 164 * kMiB);
  CHECK(*h.limit(small.path()) == 100 * kMiB);
  CHECK(*h.high(small.path()) == 100 * kMiB);  // min(guard 190M, new 100M)
  CHECK(*h.limit(big.path()) == 200 * kMiB);
  CHECK(*h.high(big.path()) == 190 * kMiB);  // its guard back
  CHECK(owtest::alive(a->pid));
  CHECK(owtest::alive(b->pid));
  CHECK(oom_kills(h, small.path()) == kills_small);
  CHECK(oom_kills(h, big.path()) == kills_big);
}
