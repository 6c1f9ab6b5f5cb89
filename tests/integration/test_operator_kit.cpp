// Root, real cgroups, the real binary, Debian's real Prometheus loading the
// rules the project ships (deploy/prometheus/oomwatch-rules.yml): after a
// real OOM kill and a real rescue, the OOM kill alert fires for the cgroup
// the kernel killed in, and every query of every panel of the Grafana
// dashboard (deploy/grafana/oomwatch.json), its variables set as Grafana
// would set them, returns at least one finite value. A panel whose query
// returns nothing fails with the panel's title. Static checks of the same
// files (promtool, the rules' unit tests) are the `rules` tier.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "prometheus.hpp"
#include "workload.hpp"

using nlohmann::json;

namespace {
constexpr uint64_t kMiB = 1 << 20;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// At least one sample, and one with a finite value (not NaN, not Inf).
bool has_finite(const json& result) {
  if (!result.is_array()) return false;
  for (const auto& r : result) {
    double v = std::stod(r["value"][1].get<std::string>());
    if (std::isfinite(v)) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("operator kit: after a real OOM kill and rescue, the kill alert fires and every dashboard query has data",
          "[integration][prometheus][hosttools][kit]") {
  REQUIRE(owtest::exists("/usr/bin/prometheus"));  // tools/install-deps.sh installs it
  const std::string rules = owtest::repo_file("deploy/prometheus/oomwatch-rules.yml");
  const std::string board = owtest::repo_file("deploy/grafana/oomwatch.json");
  REQUIRE(owtest::exists(rules));
  REQUIRE(owtest::exists(board));
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-kit");
  auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
  auto k = owtest::make_cgroup(16 * kMiB, "owtest-kitkill");  // not managed: the kernel kills in it
  owtest::TmpTree dir{"owtest-kit"};
  const std::string cfg = dir.path + "/oomwatch.toml";
  std::ofstream(cfg) << "[recommend]\ninterval = \"1s\"\npods_log_dir = \"" << dir.path << "/nolog\"\n";
  int mport = owtest::free_port();
  const std::string instance = "127.0.0.1:" + std::to_string(mport);
  auto agent = owtest::start({owtest::oomwatch_bin(), "run", "--enforce", "--hints", "--interval", "200ms", "--db",
                              dir.path + "/history.db", "--audit-log", dir.path + "/audit.jsonl", "--state-dir",
                              dir.path + "/state", "--pin-dir", "none", "--config", cfg, "--manage", parent.path(),
                              "--listen", instance});
  INFO(agent->err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(dir.path + "/state/ready") || !owtest::alive(agent->pid); },
                           30000));
  REQUIRE(owtest::alive(agent->pid));
  owtest::Prometheus prom;
  prom.start(mport, rules);
  INFO(prom.bg->err());
  REQUIRE(prom.until("up{job=\"oomwatch\"}", [](double v) { return v == 1; }));
  // Prometheus has seen both cgroups' kill counters at 0 before anything happens.
  REQUIRE(prom.until("oomwatch_cgroup_oom_kills_total{cgroup=\"" + k.path() + "\"}", [](double v) { return v == 0; }));
  {
    owtest::Workload killed(h.abs(k.path()) + "/cgroup.procs", {{64 * kMiB, 0, 0}});
    owtest::Workload rescued(h.abs(a.path()) + "/cgroup.procs", {{40 * kMiB, 0, 500}, {80 * kMiB, 20, 2500}});
    REQUIRE(killed.wait(30000));
    CHECK(killed.killed());
    REQUIRE(rescued.wait(30000));
    CHECK(rescued.exited_ok());
  }
  // What the panels need has reached Prometheus: the kill, the grant, a
  // recommendation and a hint for the rescued child.
  const std::string sel_a = "{cgroup=\"" + a.path() + "\"}";
  REQUIRE(prom.until("oomwatch_oom_kill_events_total{scope=\"cgroup\"}", [](double v) { return v >= 1; }));
  REQUIRE(prom.until("oomwatch_rescue_latency_seconds_count", [](double v) { return v >= 1; }));
  REQUIRE(prom.until("oomwatch_cgroup_recommended_limit_bytes" + sel_a, [](double v) { return v > 0; }));
  REQUIRE(prom.until("oomwatch_cgroup_gomemlimit_hint_bytes" + sel_a, [](double v) { return v > 0; }));

  // The shipped rule fires for the cgroup the kernel killed in.
  CHECK(prom.until("ALERTS{alertname=\"OomwatchOOMKill\",alertstate=\"firing\",cgroup=\"" + k.path() + "\"}",
                   [](double v) { return v == 1; }));

  auto dash = json::parse(std::ifstream(board));
  // The variables as Grafana would fill them: label_values(M, L) must offer
  // the value the panels are then queried with.
  const std::map<std::string, std::string> value{{"instance", instance}, {"cgroup", a.path()}};
  const std::regex label_values(R"(^label_values\((.*),\s*(\w+)\)$)");
  for (const auto& v : dash["templating"]["list"]) {
    if (v["type"] != "query") continue;
    std::string q = v["query"]["query"].get<std::string>();
    for (const auto& [name, val] : value) q = replace_all(q, "$" + name, val);
    std::smatch m;
    REQUIRE(std::regex_match(q, m, label_values));
    auto res = prom.query_all("count by (" + m[2].str() + ") (" + m[1].str() + ")");
    bool offered = false;
    for (const auto& r : res) offered = offered || r["metric"].value(m[2].str(), "") == value.at(v["name"]);
    INFO("variable $" << v["name"].get<std::string>() << ": " << q << " -> " << res.dump());
    CHECK(offered);
  }

  int queries = 0;
  for (const auto& p : dash["panels"]) {
    if (p["type"] == "row") continue;
    for (const auto& t : p["targets"]) {
      std::string q = t["expr"].get<std::string>();
      for (const auto& [name, val] : value) q = replace_all(q, "$" + name, val);
      q = replace_all(q, "$__rate_interval", "2m");
      // Recording rules and alerts are evaluated every second: the first
      // evaluations after the rescue may still be on their way.
      json res;
      bool ok = owtest::wait_for(
          [&] {
            res = prom.query_all(q);
            return has_finite(res);
          },
          15000);
      INFO("panel \"" << p["title"].get<std::string>() << "\" query " << t["refId"].get<std::string>() << ": " << q
                      << "\n-> " << res.dump());
      CHECK(ok);
      ++queries;
      if (ok && queries <= 3) std::fprintf(stderr, "kit: %s: %s -> %.300s\n", p["title"].get<std::string>().c_str(),
                                           q.c_str(), res.dump().c_str());
    }
  }
  CHECK(queries >= 20);
  ::kill(agent->pid, SIGTERM);
  CHECK(owtest::wait_for([&] { return !owtest::alive(agent->pid); }, 10000));
}
