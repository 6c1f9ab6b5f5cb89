// The capabilities `check` reports (cli/check_caps.hpp), from CapEff masks
// as the kernel prints them: full root, a container's default set, and one
// capability dropped at a time.
#include <catch2/catch.hpp>
#include <linux/capability.h>

#include "cli/check_caps.hpp"

using namespace ow::cli;

namespace {

const CapFinding& find(const std::vector<CapFinding>& fs, const std::string& cap) {
  for (const auto& f : fs)
    if (f.name == "capability " + cap) return f;
  FAIL("no finding for " << cap);
  throw 0;
}

constexpr uint64_t kFull = 0x000001ffffffffffULL;  // 6.x root: caps 0..40

}  // namespace

TEST_CASE("check caps: CapEff is read from a status text", "[check_caps]") {
  CHECK(parse_cap_eff("Name:\toomwatch\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
                      "CapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n") == 0x000001fffeffffffULL);
  CHECK_FALSE(parse_cap_eff("Name:\tx\n"));
  CHECK_FALSE(parse_cap_eff("CapEff:\tzz\n"));
}

TEST_CASE("check caps: full root is ok on every line", "[check_caps]") {
  auto fs = capability_findings(kFull);
  CHECK(fs.size() == 8);
  for (const auto& f : fs) {
    INFO(f.name);
    CHECK(f.status == "ok");
    CHECK(f.consequence.empty());
  }
}

TEST_CASE("check caps: each one dropped says what it costs and the fix", "[check_caps]") {
  auto no_nice = capability_findings(kFull & ~(1ULL << CAP_SYS_NICE));
  const auto& n = find(no_nice, "CAP_SYS_NICE");
  CHECK(n.status == "warn");
  CHECK(n.detail == "no CAP_SYS_NICE");
  CHECK_THAT(n.consequence, Catch::StartsWith("the rescue loop cannot take its real-time priority"));
  CHECK_THAT(n.fix, Catch::StartsWith("give the agent CAP_SYS_NICE"));
  for (const auto& f : no_nice)
    if (f.name != n.name) CHECK(f.status == "ok");
  auto no_resource = capability_findings(kFull & ~(1ULL << CAP_SYS_RESOURCE));
  const auto& r = find(no_resource, "CAP_SYS_RESOURCE");
  CHECK(r.status == "warn");
  CHECK_THAT(r.consequence, Catch::StartsWith("oom_score_adj cannot be set to -1000"));
  auto no_lock = capability_findings(kFull & ~(1ULL << CAP_IPC_LOCK));
  CHECK(find(no_lock, "CAP_IPC_LOCK").status == "warn");
}

TEST_CASE("check caps: CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON; without all three BPF fails", "[check_caps]") {
  // A kernel before 5.8: no bits 38 and 39 at all.
  auto old = capability_findings(0x0000003fffffffffULL);
  CHECK(find(old, "CAP_BPF").status == "ok");
  CHECK(find(old, "CAP_BPF").detail == "not in the effective set; CAP_SYS_ADMIN covers it");
  CHECK(find(old, "CAP_PERFMON").status == "ok");
  // BPF and PERFMON without SYS_ADMIN (the DaemonSet can drop it): BPF ok, mounts warned.
  auto no_admin = capability_findings(kFull & ~(1ULL << CAP_SYS_ADMIN));
  CHECK(find(no_admin, "CAP_BPF").status == "ok");
  CHECK(find(no_admin, "CAP_SYS_ADMIN").status == "warn");
  // Neither: the agent cannot start.
  auto none = capability_findings(kFull & ~(1ULL << CAP_SYS_ADMIN) & ~(1ULL << 39) & ~(1ULL << 38));
  CHECK(find(none, "CAP_BPF").status == "fail");
  CHECK(find(none, "CAP_PERFMON").status == "fail");
  CHECK_THAT(find(none, "CAP_BPF").consequence, Catch::Contains("the agent cannot start"));
}
