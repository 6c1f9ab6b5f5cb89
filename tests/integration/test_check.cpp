#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "skip.hpp"

TEST_CASE("check --json says the agent can run here and why", "[integration][check]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "check", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["can_run"] == true);
  bool hook = false, cgroup = false;
  for (const auto& i : j["items"]) {
    if (i["name"] == "tracepoint mark_victim") hook = i["status"] == "ok";
    if (i["name"] == "cgroup") cgroup = i["status"] == "ok";
  }
  CHECK(hook);
  CHECK(cgroup);
}

namespace {

// check --json's item `name`, or a null json when it has none.
nlohmann::json item(const nlohmann::json& j, const std::string& name) {
  for (const auto& i : j["items"])
    if (i["name"] == name) return i;
  return nlohmann::json();
}

// util-linux's setpriv drops capabilities from the bounding set; busybox's
// (the VM guests' userland) has no --bounding-set.
bool setpriv_drops_bounding() {
  auto r = owtest::run({"setpriv", "--help"});
  return (r.out + r.err).find("--bounding-set") != std::string::npos;
}

}  // namespace

TEST_CASE("check names the capabilities root was started without, with what each costs; run then warns the same",
          "[integration][check]") {
  // Root without CAP_SYS_NICE and CAP_SYS_RESOURCE, as in a container or a
  // unit with a narrow CapabilityBoundingSet: setpriv (util-linux) drops them
  // from the bounding set, so uid 0 does not get them back at exec.
  if (!setpriv_drops_bounding()) OWTEST_SKIP("setpriv has no --bounding-set here (util-linux's has; busybox's not)");
  const std::vector<std::string> drop{"setpriv", "--inh-caps=-sys_nice,-sys_resource",
                                      "--bounding-set=-sys_nice,-sys_resource", "--"};
  auto argv = drop;
  for (std::string a : {owtest::oomwatch_bin(), std::string("check"), std::string("--json")}) argv.push_back(a);
  auto r = owtest::run(argv);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);  // degraded, not unable
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["can_run"] == true);
  auto nice = item(j, "capability CAP_SYS_NICE");
  REQUIRE(nice.is_object());
  CHECK(nice["status"] == "warn");
  CHECK(nice["detail"] == "no CAP_SYS_NICE");
  CHECK(nice["consequence"].get<std::string>().rfind("the rescue loop cannot take its real-time priority", 0) == 0);
  CHECK(nice["fix"].get<std::string>().rfind("give the agent CAP_SYS_NICE", 0) == 0);
  auto res = item(j, "capability CAP_SYS_RESOURCE");
  REQUIRE(res.is_object());
  CHECK(res["status"] == "warn");
  CHECK(res["consequence"].get<std::string>().rfind("oom_score_adj cannot be set to -1000", 0) == 0);
  CHECK(item(j, "capability CAP_BPF")["status"] == "ok");

  // The agent under the same drop meets exactly those two walls.
  owtest::TmpTree d{"owtest-check-caps"};
  argv = drop;
  const std::vector<std::string> run{owtest::oomwatch_bin(), "run", "--db", "none", "--pin-dir", "none", "--audit-log",
                                     d.path + "/audit.jsonl", "--state-dir", d.path + "/state"};
  argv.insert(argv.end(), run.begin(), run.end());
  auto ag = owtest::start(argv);
  bool ready = owtest::wait_for(
      [&] { return owtest::exists(d.path + "/state/ready") || !owtest::alive(ag->pid); }, 30000);
  ag->stop();
  const std::string err = ag->err();
  INFO(err);
  REQUIRE(ready);
  CHECK(err.find("self-protection: oom_score_adj -1000") != std::string::npos);
  CHECK(err.find("event loop priority: SCHED_FIFO refused") != std::string::npos);

  // Without the drop, CAP_SYS_NICE is reported as held (this runner has it).
  auto full = owtest::run({owtest::oomwatch_bin(), "check", "--json"});
  REQUIRE(full.exit_code == 0);
  CHECK(item(nlohmann::json::parse(full.out), "capability CAP_SYS_NICE")["status"] == "ok");
}

TEST_CASE("check fails on root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN, saying the agent cannot start",
          "[integration][check]") {
  if (!setpriv_drops_bounding()) OWTEST_SKIP("setpriv has no --bounding-set here (util-linux's has; busybox's not)");
  auto r = owtest::run({"setpriv", "--inh-caps=-bpf,-perfmon,-sys_admin", "--bounding-set=-bpf,-perfmon,-sys_admin",
                        "--", owtest::oomwatch_bin(), "check", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["can_run"] == false);
  auto bpf = item(j, "capability CAP_BPF");
  REQUIRE(bpf.is_object());
  CHECK(bpf["status"] == "fail");
  CHECK(bpf["detail"] == "no CAP_BPF and no CAP_SYS_ADMIN");
  CHECK(bpf["consequence"].get<std::string>().find("the agent cannot start") != std::string::npos);
  CHECK(item(j, "capability CAP_SYS_ADMIN")["status"] == "warn");
}
