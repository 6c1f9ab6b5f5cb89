// Root, real cgroups: the agent's trace_on_incident. An OOM kill in a managed
// child starts a bounded trace of that child off the event loop; its growers
// come as a later audit line naming the incident's trigger and audit ts.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "workload.hpp"

using nlohmann::json;

namespace {
constexpr uint64_t kMiB = 1ull << 20;

const json* find_line(const std::vector<json>& lines, const char* key, const char* value) {
  for (const auto& l : lines)
    if (l.contains(key) && l[key] == value) return &l;
  return nullptr;
}
}  // namespace

TEST_CASE("trace_on_incident: an OOM kill in a managed child yields an audit line of its growers",
          "[integration][trace]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-trace-parent");
  auto a = owtest::child(h, parent.path(), "a", 32 * kMiB);
  auto procs = h.abs(a.path()) + "/cgroup.procs";
  owtest::TmpTree dir("owtest-trace-agent");
  std::string cfg = dir.path + "/oomwatch.toml", audit = dir.path + "/audit.jsonl", state = dir.path + "/state";
  std::ofstream(cfg) << "trace_on_incident = \"3s\"\n";
  auto bg = owtest::start({owtest::oomwatch_bin(), "run", "--config", cfg, "--manage", parent.path(), "--interval",
                           "100ms", "--db", "none", "--audit-log", audit, "--state-dir", state, "--pin-dir", "none"});
  INFO(bg->err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(state + "/ready") || !owtest::alive(bg->pid); }, 30000));
  REQUIRE(owtest::alive(bg->pid));

  {
    owtest::Workload victim(procs, {{48 * kMiB, 0, 0}});
    REQUIRE(victim.wait(30000));
    REQUIRE(victim.killed());
  }
  std::vector<json> lines;
  REQUIRE(owtest::wait_for([&] {
    lines = owtest::json_file_lines(audit);
    return find_line(lines, "trigger", "oom_kill") != nullptr;
  }, 10000));
  // Grows while the incident's trace runs: after 500 ms (the trace's first
  // look, its baseline, comes first even on a slow guest), 16 MiB, one 4 MiB
  // chunk per 50 ms.
  owtest::Workload regrow(procs, {{0, 0, 500}, {16 * kMiB, 50, 0}}, false, true);
  REQUIRE(owtest::wait_for([&] {
    lines = owtest::json_file_lines(audit);
    return find_line(lines, "type", "incident_trace") != nullptr;
  }, 20000));
  const json& t = *find_line(lines, "type", "incident_trace");
  INFO(t.dump());
  CHECK(t["cgroup"] == a.path());
  // The incident it names is an audit line of this cgroup: the kill, or (on
  // v2) the pressure grant just before it that the dry run would have made.
  const json* inc = nullptr;
  for (const auto& l : lines)
    if (l.contains("trigger") && l["trigger"] == t["incident"]["trigger"] && l["ts"] == t["incident"]["ts"]) inc = &l;
  REQUIRE(inc);
  CHECK((*inc)["oom_cgroup"] == a.path());
  CHECK((t["incident"]["trigger"] == "oom_kill" || t["incident"]["trigger"] == "pressure"));
  CHECK(t["ts"].get<std::string>() >= t["incident"]["ts"].get<std::string>());
  CHECK((t["method"] == "tracepoints" || t["method"] == "proc-sampling"));
  REQUIRE(!t["growers"].empty());
  CHECK(t["growers"][0]["tgid"] == regrow.pid());
  CHECK(t["growers"][0]["net_bytes"].get<int64_t>() >= static_cast<int64_t>(12 * kMiB));
  // One trace at a time: the kill during it got none of its own.
  size_t traces = 0;
  for (const auto& l : lines) traces += l.contains("type") && l["type"] == "incident_trace";
  CHECK(traces == 1);
  bg->stop();
}
