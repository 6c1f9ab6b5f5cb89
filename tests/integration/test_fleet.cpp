// The fleet path against the real thing (tests/common/fleet_tsdb.hpp): the
// real binary's `recommend --prometheus` checked figure by figure against
// the seed's formulas worked out on the generated samples; Knative clauses,
// patches, overrides and enforcement. Everything started is stopped and
// removed by destructors, on every path.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fleet_tsdb.hpp"

using nlohmann::json;
using namespace fleettest;

TEST_CASE("fleet: recommend --prometheus gives the seed's figures per workload container", "[fleet][integration][hosttools]") {
  REQUIRE(owtest::exists("/usr/bin/prometheus"));
  REQUIRE(owtest::exists("/usr/bin/promtool"));
  FleetProm fp;
  INFO(fp.err);
  REQUIRE(fp.ok);
  auto r = recommend(fp, {"--selector", "namespace!=\"bad\"", "--step", "30s", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json doc = json::parse(r.out);
  auto want = expected(fp.end);
  REQUIRE(doc["containers"].size() == want.size());  // the pod-level series made no entry
  for (const auto& [name, e] : want) {
    INFO(name);
    const json* c = find(doc, name);
    REQUIRE(c);
    const json& o = (*c)["observed"];
    CHECK(o["ws_avg_bytes"] == e.lw.avg);
    CHECK(o["ws_p95_bytes"] == e.lw.p95);
    CHECK(o["ws_max_bytes"] == e.lw.max);  // 900Mi pod-level series skipped
    CHECK(o["samples"] == e.lw.n);
    CHECK(o["short"]["ws_avg_bytes"] == e.sw.avg);
    CHECK(o["short"]["ws_p95_bytes"] == e.sw.p95);
    CHECK(o["short"]["ws_max_bytes"] == e.sw.max);
    CHECK(o["short"]["samples"] == e.sw.n);
    CHECK((*c)["recommended"]["request_bytes"] == e.request);
    CHECK((*c)["recommended"]["limit_bytes"] == e.limit);
    CHECK((*c)["confidence"] == (e.low ? "low" : "high"));
    CHECK((*c)["current"]["request_bytes"] == (e.cur_request ? json(*e.cur_request) : json(nullptr)));
    CHECK((*c)["current"]["limit_bytes"] == (e.cur_limit ? json(*e.cur_limit) : json(nullptr)));
    CHECK((*c)["rss"]["max_bytes"] == e.rss_max);
    CHECK((*c)["workload"]["pods"] == e.pods);
    CHECK((*c)["workload"]["series"] == e.series);
    if (e.oom_used) {
      CHECK((*c)["observed"]["oom_kill_used"] == fmt_mib(*e.oom_used));
      CHECK_THAT((*c)["recommended"]["limit_term"].get<std::string>(), Catch::Contains("OOM floor"));
    } else {
      CHECK((*c)["observed"]["oom_kill_used"].is_null());
    }
  }
  // db's and calm's request changed 10 min before the end (kube-state-metrics
  // saw it): their memory figures moved, but the cooldown holds them back.
  for (const char* n : {"shop/db/postgres", "kn/calm/user-container"}) {
    INFO(n);
    const json& c = *find(doc, n);
    CHECK(c["propose"] == false);
    CHECK_THAT(c["decision"].get<std::string>(), Catch::StartsWith("cooldown: last revision 10m ago, next one after 30m"));
  }
  CHECK((*find(doc, "shop/web/app"))["propose"] == true);  // no revision: proposed
  CHECK((*find(doc, "shop/web/app"))["workload"]["kind"] == "Deployment");
  CHECK((*find(doc, "shop/db/postgres"))["workload"]["kind"] == "StatefulSet");
  CHECK((*find(doc, "pay/worker/agent"))["workload"]["kind"] == "DaemonSet");
  CHECK((*find(doc, "kn/hello/user-container"))["workload"]["kind"] == "Service");
}

namespace {

// `kubectl get ksvc -o json` for the two Services.
const char* kServices = R"({"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"hello","namespace":"kn"},
  "spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/metric":"concurrency","autoscaling.knative.dev/target":"10"}},
   "spec":{"containerConcurrency":0,"containers":[{"name":"user-container","image":"example/hello:1",
    "resources":{"requests":{"cpu":"100m","memory":"200Mi"},"limits":{"memory":"256Mi"}}}]}}}},
 {"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"calm","namespace":"kn"},
  "spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/target":"50"}},
   "spec":{"containerConcurrency":0,"containers":[{"name":"user-container","image":"example/calm:1"}]}}}}]})";

std::vector<double> kn_values(const FleetProm& fp, const std::string& what, const KnPod& p) {
  std::vector<double> v;
  for (int k = 0; k <= kFull; ++k)
    v.push_back(what == "c" ? knative_value("c", p.pod, k, p.conc_lo, p.conc_span)
                            : knative_value("q", p.pod, k, p.queue_lo, p.queue_span));
  (void)fp;
  return v;
}

json lines_by_workload(const std::string& out) {
  json m = json::object();
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    std::string line = out.substr(pos, nl - pos);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    if (line.empty()) continue;
    json j = json::parse(line);
    m[j["namespace"].get<std::string>() + "/" + j["name"].get<std::string>()] = j;
  }
  return m;
}

}  // namespace

TEST_CASE("fleet: Knative clauses with their figures, patches with overrides and enforcement", "[fleet][integration][hosttools]") {
  FleetProm fp;
  INFO(fp.err);
  REQUIRE(fp.ok);
  owtest::TmpTree dir("owtest-fleet");
  std::ofstream(dir.path + "/ksvc.json") << kServices;
  auto want = expected(fp.end);

  // Knative: hello's ws_max is near its 256Mi limit and its concurrency p95
  // above target 10: lower; calm's far from 512Mi with requests queueing
  // below target 50: raise.
  auto r = recommend(fp, {"--selector", "namespace=\"kn\"", "--knative-services", dir.path + "/ksvc.json", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json doc = json::parse(r.out);
  double hello_c = p95_of(kn_values(fp, "c", kn_pods()[0])), calm_c = p95_of(kn_values(fp, "c", kn_pods()[1]));
  double calm_q = p95_of(kn_values(fp, "q", kn_pods()[1]));
  const Expect& he = want["kn/hello/user-container"];
  REQUIRE(he.lw.max * 10 >= 256 * kMi * 9);  // the premises of the clauses, from the generated data
  REQUIRE(hello_c > 10);
  REQUIRE(want["kn/calm/user-container"].lw.max * 10 <= 512 * kMi * 6);
  REQUIRE((calm_q >= 1 && calm_c < 50));
  const json& hk = (*find(doc, "kn/hello/user-container"))["knative"];
  CHECK(hk["clause"] == "lower");
  CHECK(hk["concurrency"]["p95"] == hello_c);
  CHECK(hk["target"] == 8);                  // floor(10 × 0.80)
  CHECK(hk["container_concurrency"] == 10);  // unlimited -> the old target
  CHECK(hk["propose"] == true);
  CHECK_THAT(hk["rationale"].get<std::string>(), Catch::Contains("lower: ws_max " + fmt_mib(he.lw.max)) &&
                                                     Catch::Contains("concurrency p95 " + std::to_string(int(hello_c)) + " > target 10"));
  const json& ck = (*find(doc, "kn/calm/user-container"))["knative"];
  CHECK(ck["clause"] == "raise");
  CHECK(ck["target"] == 60);  // 50 × 1.20
  CHECK(ck["container_concurrency"].is_null());
  CHECK(ck["queue_depth"]["p95"] == calm_q);
  CHECK(ck["propose"] == false);  // its memory's cooldown runs (the request changed 10 min ago)
  CHECK_THAT(ck["rationale"].get<std::string>(), Catch::EndsWith("held back: the memory recommendation's cooldown is running"));
  CHECK((*find(doc, "kn/hello/queue-proxy"))["knative"].is_null());  // the sidecar is not advised on

  // The table and YAML carry the same figures.
  auto t = recommend(fp, {"--selector", "namespace=\"kn\"", "--knative-services", dir.path + "/ksvc.json"});
  REQUIRE(t.exit_code == 0);
  CHECK_THAT(t.out, Catch::StartsWith("NAME ") && Catch::Contains("\nkn/hello/user-container ") &&
                        Catch::Contains("\nknative kn/hello: lower: ws_max " + fmt_mib(he.lw.max)) &&
                        Catch::Contains("\nknative kn/calm: raise: "));
  auto y = recommend(fp, {"--selector", "namespace=\"kn\"", "--knative-services", dir.path + "/ksvc.json", "--format", "yaml"});
  REQUIRE(y.exit_code == 0);
  CHECK_THAT(y.out, Catch::Contains("\ncontainers:\n- name: \"kn/calm/user-container\"\n") &&
                        Catch::Contains("    clause: \"raise\"\n") &&
                        Catch::Contains("    ws_max_bytes: " + std::to_string(he.lw.max) + "\n"));

  // Patches: strategic for the Deployment, merge for the Knative Service
  // (its containers written back whole), overrides winning, one disabled.
  std::ofstream(dir.path + "/overrides.json") << R"({
    "shop/db": {"memory_tuning": {"enforce": true, "overrides": {"postgres": {"limit": "1Gi"}}}},
    "pay/worker": {"memory_tuning": {"enabled": false}},
    "kn/calm": {"knative_tuning": {"overrides": {"annotations": {"autoscaling.knative.dev/target": "40"}}}}})";
  std::vector<std::string> pargs{"--selector", "namespace!=\"bad\"", "--knative-services", dir.path + "/ksvc.json",
                                 "--overrides", dir.path + "/overrides.json", "--format", "patch"};
  auto p = recommend(fp, pargs);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  json w = lines_by_workload(p.out);
  const Expect& web = want["shop/web/app"];
  CHECK(w["shop/web"]["patch_type"] == "strategic");
  CHECK(w["shop/web"]["patch"] == json::parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{)"
                                              R"("requests":{"memory":")" + std::to_string(web.request / kMi) + R"(Mi"},)"
                                              R"("limits":{"memory":")" + std::to_string(web.limit / kMi) + R"(Mi"}}}]}}}})"));
  CHECK_THAT(w["shop/web"]["command"].get<std::string>(), Catch::StartsWith("kubectl patch deployment 'web' -n 'shop' --type strategic -p '{"));
  CHECK(w["shop/web"]["apply"] == false);
  CHECK(w["shop/db"]["kind"] == "StatefulSet");
  CHECK(w["shop/db"]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi");
  CHECK(w["shop/db"]["containers"][0]["limit_from"] == "override");
  CHECK(w["pay/worker"]["patch"].is_null());
  CHECK_THAT(w["pay/worker"]["apply_reason"].get<std::string>(), Catch::Contains("disabled"));
  const json& hp = w["kn/hello"]["patch"]["spec"]["template"];
  CHECK(w["kn/hello"]["patch_type"] == "merge");
  CHECK(hp["metadata"]["annotations"]["autoscaling.knative.dev/target"] == "8");
  CHECK(hp["spec"]["containerConcurrency"] == 10);
  // queue-proxy is Knative's, not in the Service's containers: only user-container, image kept.
  REQUIRE(hp["spec"]["containers"].size() == 1);
  CHECK(hp["spec"]["containers"][0]["image"] == "example/hello:1");
  CHECK(hp["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m");
  CHECK(hp["spec"]["containers"][0]["resources"]["limits"]["memory"] == std::to_string(he.limit / kMi) + "Mi");
  // calm: the user's target stays as set (40), never the advised 60.
  CHECK(w["kn/calm"]["patch"]["spec"]["template"]["metadata"]["annotations"]["autoscaling.knative.dev/target"] == "40");

  // The same overrides in YAML (the seed's shape) give the same patches.
  std::ofstream(dir.path + "/overrides.yaml") << "shop/db:\n  memory_tuning:\n    enforce: true\n    overrides:\n"
                                                 "      postgres: {limit: 1Gi}\npay/worker:\n  memory_tuning: {enabled: false}\n"
                                                 "kn/calm:\n  knative_tuning:\n    overrides:\n      annotations:\n"
                                                 "        autoscaling.knative.dev/target: \"40\"\n";
  auto yargs = pargs;
  yargs[5] = dir.path + "/overrides.yaml";
  auto py = recommend(fp, yargs);
  INFO(py.err);
  REQUIRE(py.exit_code == 0);
  CHECK(py.out == p.out);

  // Enforcement: only workloads whose overrides say enforce are marked to
  // apply (a state file keeps their cooldown; each run here has its own).
  auto pargs_e = pargs;
  pargs_e.insert(pargs_e.end(), {"--enforce", "--state", dir.path + "/state-enforce.json"});
  auto e = recommend(fp, pargs_e);
  REQUIRE(e.exit_code == 0);
  json we = lines_by_workload(e.out);
  CHECK(we["shop/db"]["apply"] == true);
  CHECK(we["shop/web"]["apply"] == false);
  CHECK_THAT(we["shop/web"]["apply_reason"].get<std::string>(), Catch::Contains("memory_tuning.enforce is not set"));
  std::vector<std::string> env_argv{"env", "OPRC_CRM_FEATURES_NFR_ENFORCEMENT=true", owtest::oomwatch_bin(), "recommend",
                                    "--prometheus", fp.prom.base(), "--window", "6h", "--short-window", "15m",
                                    "--end", std::to_string(fp.end)};
  env_argv.insert(env_argv.end(), pargs.begin(), pargs.end());
  env_argv.insert(env_argv.end(), {"--state", dir.path + "/state-env.json"});
  auto env = owtest::run(env_argv, 120);
  REQUIRE(env.exit_code == 0);
  CHECK(lines_by_workload(env.out)["shop/db"]["apply"] == true);
  env_argv[1] = "OPRC_CRM_FEATURES_NFR_ENFORCEMENT=yes";
  auto bad_env = owtest::run(env_argv, 120);
  CHECK(bad_env.exit_code == 2);
  CHECK_THAT(bad_env.err, Catch::Contains("expected true or false"));
}

