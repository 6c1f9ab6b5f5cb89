// The fleet path's enforcement safeguards and kube-state-metrics ownership
// against a real Prometheus (Debian's, serving a TSDB that promtool built
// from series generated here): a 3x jump in usage gives a first patch of at
// most a 30 % step marked to apply, and a second run with the same --state
// file refuses to apply it, naming the cooldown; a pod whose name no
// controller would generate is attributed to its Deployment through
// kube_pod_owner and kube_replicaset_owner, and a ReplicaSet owned by an Argo
// Rollout is not patched as a Deployment. The Prometheus, its TSDB and the
// state files are removed on every path (destructors).
#include <catch2/catch.hpp>

#include <time.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "openmetrics.hpp"
#include "prometheus.hpp"

using nlohmann::json;

namespace {

constexpr double kMi = 1048576.0;
constexpr int kEvery = 30, kPoints = 6 * 3600 / kEvery - 1;  // k = 0..718, k = 0 the newest

struct Pod {
  std::string pod, container;
  double before_mi, after_mi;  // usage before and during the last 2 h
  double request_mi, limit_mi;
};

// own/checkout: a pod named unlike any generator's output ("checkout-blue-main"),
// owned by ReplicaSet checkout-6f9d8c7b5, owned by Deployment checkout; its
// usage jumps from about 100Mi to about 300Mi for the last 2 h (request
// 100Mi, limit 500Mi: 30 % steps of whole MiB).
// own/canary: a Deployment-looking pod whose ReplicaSet an Argo Rollout owns.
// own/solo: no kube-state-metrics owner series: found by its name.
const std::vector<Pod> kPods = {
    {"checkout-blue-main", "app", 100, 300, 100, 500},
    {"canary-7c9d8f6b5-xk2lp", "app", 100, 300, 100, 512},
    {"solo-7d4b9c8f6-bcdfg", "app", 100, 100, 128, 256},
};

struct Tsdb {
  owtest::Prometheus prom;
  int64_t end = 0;
  bool ok = false;
  std::string err;
  Tsdb() {
    end = (::time(nullptr) / 60) * 60 - 120;
    std::vector<owtest::OmFamily> f(5);
    f[0].name = "container_memory_working_set_bytes";
    f[1].name = "kube_pod_container_resource_requests";
    f[2].name = "kube_pod_container_resource_limits";
    f[3].name = "kube_pod_owner";
    f[4].name = "kube_replicaset_owner";
    auto flat = [&](double v) {
      std::vector<std::pair<int64_t, double>> p;
      for (int k = kPoints; k >= 0; --k) p.push_back({end - 15 - kEvery * k, v});
      return p;
    };
    for (const auto& p : kPods) {
      std::string l = "namespace=\"own\",pod=\"" + p.pod + "\",container=\"" + p.container + "\"";
      owtest::OmSeries ws{l + ",id=\"/" + p.pod + "\"", {}};
      for (int k = kPoints; k >= 0; --k) {
        double base = k < 240 ? p.after_mi : p.before_mi;  // the last 2 h: k < 240
        double noise = static_cast<double>(owtest::mix(std::hash<std::string>{}(p.pod) + k) % (5 * 1048576));
        ws.points.push_back({end - 15 - kEvery * k, base * kMi + noise});
      }
      f[0].series.push_back(ws);
      f[1].series.push_back({l + ",resource=\"memory\",unit=\"byte\"", flat(p.request_mi * kMi)});
      f[2].series.push_back({l + ",resource=\"memory\",unit=\"byte\"", flat(p.limit_mi * kMi)});
    }
    auto owner = [&](const std::string& obj, const std::string& name, const std::string& kind, const std::string& oname) {
      return owtest::OmSeries{"namespace=\"own\"," + obj + "=\"" + name + "\",owner_kind=\"" + kind + "\",owner_name=\"" +
                                  oname + "\",owner_is_controller=\"true\"",
                              flat(1)};
    };
    f[3].series.push_back(owner("pod", "checkout-blue-main", "ReplicaSet", "checkout-6f9d8c7b5"));
    f[3].series.push_back(owner("pod", "canary-7c9d8f6b5-xk2lp", "ReplicaSet", "canary-7c9d8f6b5"));
    f[4].series.push_back(owner("replicaset", "checkout-6f9d8c7b5", "Deployment", "checkout"));
    f[4].series.push_back(owner("replicaset", "canary-7c9d8f6b5", "Rollout", "canary"));
    err = owtest::serve_families(prom, f);
    ok = err.empty();
  }
  owtest::CmdResult recommend(std::vector<std::string> extra) const {
    std::vector<std::string> argv{owtest::oomwatch_bin(), "recommend", "--prometheus", prom.base(), "--window", "6h",
                                  "--short-window", "15m", "--end", std::to_string(end), "--step", "30s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return owtest::run(argv, 120);
  }
};

json by_workload(const std::string& out) {
  json m = json::object();
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) {
      json j = json::parse(line);
      m[j["name"].get<std::string>()] = j;
    }
  return m;
}

const json* container(const json& doc, const std::string& name) {
  for (const auto& c : doc["containers"])
    if (c["name"] == name) return &c;
  return nullptr;
}

uint64_t mib_of(const std::string& q) {  // "130Mi"
  REQUIRE(q.size() > 2);
  REQUIRE(q.substr(q.size() - 2) == "Mi");
  return std::stoull(q.substr(0, q.size() - 2));
}

}  // namespace

TEST_CASE("fleet: kube_pod_owner and kube_replicaset_owner name the workload and its kind",
          "[fleet][owners][integration][hosttools]") {
  Tsdb t;
  INFO(t.err);
  REQUIRE(t.ok);
  auto r = t.recommend({"--selector", "namespace=\"own\"", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json doc = json::parse(r.out);
  REQUIRE(doc["containers"].size() == 3);
  const json* co = container(doc, "own/checkout/app");  // not "own/checkout-blue-main/app", a bare Pod
  REQUIRE(co);
  CHECK((*co)["workload"]["kind"] == "Deployment");
  CHECK((*co)["workload"]["owner_from"] == "kube_pod_owner");
  CHECK((*co)["workload"]["owner_via"] ==
        "pod checkout-blue-main -> ReplicaSet checkout-6f9d8c7b5 -> Deployment checkout");
  const json* ca = container(doc, "own/canary/app");
  REQUIRE(ca);
  CHECK((*ca)["workload"]["kind"] == "Rollout");
  const json* so = container(doc, "own/solo/app");
  REQUIRE(so);
  CHECK((*so)["workload"]["kind"] == "Deployment");
  CHECK((*so)["workload"]["owner_from"] == "name");

  auto table = t.recommend({"--selector", "namespace=\"own\""});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("\nworkload own/checkout: Deployment from kube_pod_owner (pod checkout-blue-main -> "
                                        "ReplicaSet checkout-6f9d8c7b5 -> Deployment checkout)\n") &&
                            Catch::Contains("\nworkload own/solo: Deployment from name\n"));

  // Patches: the Deployment by its real name; the Rollout gets none (not as a Deployment).
  auto p = t.recommend({"--selector", "namespace=\"own\"", "--format", "patch"});
  REQUIRE(p.exit_code == 0);
  json w = by_workload(p.out);
  CHECK_THAT(w["checkout"]["command"].get<std::string>(), Catch::StartsWith("kubectl patch deployment 'checkout' -n 'own'"));
  CHECK(w["checkout"]["owner_from"] == "kube_pod_owner");
  CHECK(w["canary"]["kind"] == "Rollout");
  CHECK(w["canary"]["patch"].is_null());
  CHECK_THAT(w["canary"]["apply_reason"].get<std::string>(), Catch::Contains("kind Rollout is not patched by oomwatch"));

  // Renamed metrics are asked for by their names: with names nothing has, the name heuristic is back.
  auto renamed = t.recommend({"--selector", "namespace=\"own\"", "--format", "json", "--metric-pod-owner", "ksm_pod_owner",
                              "--metric-replicaset-owner", "ksm_rs_owner"});
  REQUIRE(renamed.exit_code == 0);
  json rd = json::parse(renamed.out);
  REQUIRE(container(rd, "own/checkout-blue-main/app"));
  CHECK((*container(rd, "own/checkout-blue-main/app"))["workload"]["kind"] == "Pod");
}

TEST_CASE("fleet: with enforcement a 3x jump is applied 30 % at a time, and the --state cooldown holds the next run",
          "[fleet][safeguards][integration][hosttools]") {
  Tsdb t;
  INFO(t.err);
  REQUIRE(t.ok);
  owtest::TmpTree dir("owtest-fleet-state");
  std::ofstream(dir.path + "/overrides.json") << R"({"own/checkout": {"memory_tuning": {"enforce": true}},
    "own/canary": {"memory_tuning": {"enforce": true}}})";
  const std::string state = dir.path + "/state.json";
  std::vector<std::string> args{"--selector", "namespace=\"own\"", "--overrides", dir.path + "/overrides.json",
                                "--format", "patch", "--enforce", "--state", state};

  // What the recommendation itself is: about 3x the current 100Mi request.
  auto j = t.recommend({"--selector", "namespace=\"own\"", "--format", "json"});
  REQUIRE(j.exit_code == 0);
  const json jdoc = json::parse(j.out);
  const json* co = container(jdoc, "own/checkout/app");
  REQUIRE(co);
  REQUIRE((*co)["recommended"]["request_bytes"].get<uint64_t>() >= 300 * 1048576ull);

  auto first = t.recommend(args);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  json w = by_workload(first.out);
  INFO(w.dump());
  CHECK(w["checkout"]["apply"] == true);
  const json& res = w["checkout"]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"];
  uint64_t req = mib_of(res["requests"]["memory"].get<std::string>());
  CHECK(req > 100);
  CHECK(req <= 130);  // at most 30 % above the current 100Mi
  REQUIRE((*co)["recommended"]["limit_bytes"].get<uint64_t>() > 650 * 1048576ull);
  uint64_t lim = mib_of(res["limits"]["memory"].get<std::string>());
  CHECK(lim > 500);
  CHECK(lim <= 650);  // at most 30 % above the current 500Mi
  CHECK_THAT(w["checkout"]["containers"][0]["safeguards"].get<std::string>(), Catch::Contains("at most 30 % per change"));
  CHECK(w["canary"]["apply"] == false);  // a Rollout: no patch to apply

  // The state file holds the applied change and its time (the run's end).
  std::ifstream sf(state);
  REQUIRE(sf);
  json st = json::parse(sf);
  CHECK(st["version"] == 1);
  CHECK(st["workloads"]["own/checkout"]["last_applied_ms"] == t.end * 1000);
  CHECK(st["workloads"]["own/checkout"]["containers"]["app"]["applied"]["request_bytes"] == req * 1048576);
  CHECK(st["workloads"]["own/checkout"]["containers"]["app"]["applied"]["limit_bytes"] == lim * 1048576);
  CHECK(st["workloads"]["own/checkout"]["containers"]["app"]["recommended"]["request_bytes"] ==
        (*co)["recommended"]["request_bytes"]);
  CHECK_FALSE(st["workloads"]["own/canary"].contains("last_applied_ms"));

  // A second run within the cooldown, same state: the same step, not applied, the cooldown named.
  auto second = t.recommend(args);
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  json w2 = by_workload(second.out);
  CHECK(w2["checkout"]["apply"] == false);
  CHECK_THAT(w2["checkout"]["apply_reason"].get<std::string>(),
             Catch::StartsWith("held back by the cooldown: changed 0s ago, next after 30m, at ") &&
                 Catch::Contains("from --state " + state));
  CHECK(w2["checkout"]["patch"] == w["checkout"]["patch"]);

  // Without a state file nothing is marked to apply.
  std::vector<std::string> stateless(args.begin(), args.end() - 2);
  auto none = t.recommend(stateless);
  REQUIRE(none.exit_code == 0);
  CHECK(by_workload(none.out)["checkout"]["apply"] == false);

  // A corrupt state file: one line naming it, exit 2; the file is left as it was.
  std::ofstream(state, std::ios::trunc) << "{\"version\": 1, \"workloads\": {\"own/checkout\": {\"last_applied_ms\": \"x\"}}}";
  auto bad = t.recommend(args);
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err == "oomwatch: --state " + state + ": not an oomwatch state file: own/checkout.last_applied_ms is not an integer\n");
}
