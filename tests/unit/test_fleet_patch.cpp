// Overrides file, patches per workload kind, precedence and enforcement;
// and one engine: the node path and the fleet path make the same
// recommendation from the same window figures.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "advisor/history_facts.hpp"
#include "fleet/fleet_report.hpp"
#include "fleet/overrides.hpp"
#include "fleet/patch.hpp"
#include "recommend/gate.hpp"

using namespace ow::fleet;
using ow::recommend::kMi;
using json = nlohmann::ordered_json;

TEST_CASE("fleet: overrides file, the seed's shape; bad input named", "[fleet]") {
  auto o = parse_overrides(R"({"shop/web":{"memory_tuning":{"enabled":true,"enforce":true,
    "overrides":{"app":{"request":"256Mi","limit":"512Mi"},"side":{"limit":"1Gi"}}},
    "knative_tuning":{"overrides":{"containerConcurrency":10,"annotations":{"autoscaling.knative.dev/target":"50"}}}},
    "pay/w":{"memory_tuning":{"enabled":false}}})");
  REQUIRE(o);
  const auto& w = o->at("shop/web");
  CHECK(w.enabled == true);
  CHECK(w.enforce);
  CHECK(w.containers.at("app").request_bytes == 256 * kMi);
  CHECK(w.containers.at("app").limit_bytes == 512 * kMi);
  CHECK_FALSE(w.containers.at("side").request_bytes);
  CHECK(w.knative.container_concurrency == 10);
  CHECK(w.knative.annotations.at("autoscaling.knative.dev/target") == "50");
  CHECK(o->at("pay/w").enabled == false);
  CHECK_FALSE(o->at("pay/w").enforce);
  struct Bad {
    const char *text, *says;
  };
  const Bad bad[] = {
      {"[]", "not a JSON or YAML map"},
      {"a: [", "YAML line 1, column"},
      {"a/b:\n  memory_tuning:\n    enforce: \"true\"\n", "a/b.memory_tuning.enforce is not true or false"},
      {"a/b:\n  knative_tuning:\n    overrides:\n      annotations:\n        t: 50\n", "annotations.t is not a string"},
      {R"({"web":{}})", "key 'web' is not namespace/workload"},
      {R"({"a/b/c":{}})", "not namespace/workload"},
      {R"({"a/b":{"memory":{}}})", "a/b: unknown key 'memory'"},
      {R"({"a/b":{"memory_tuning":{"enforced":true}}})", "a/b.memory_tuning: unknown key 'enforced'"},
      {R"({"a/b":{"memory_tuning":{"enabled":"yes"}}})", "a/b.memory_tuning.enabled is not true or false"},
      {R"({"a/b":{"memory_tuning":{"overrides":[]}}})", "overrides is not an object keyed by container"},
      {R"({"a/b":{"memory_tuning":{"overrides":{"c":{"request":"lots"}}}}})", "a/b.memory_tuning.overrides.c.request:"},
      {R"({"a/b":{"memory_tuning":{"overrides":{"c":{"request":256}}}}})", "is not a quantity string"},
      {R"({"a/b":{"memory_tuning":{"overrides":{"c":{"request":"1Gi","limit":"1Mi"}}}}})", "request is above the limit"},
      {R"({"a/b":{"memory_tuning":{"overrides":{"c":{"cpu":"1"}}}}})", "unknown key 'cpu'"},
      {R"({"a/b":{"knative_tuning":{"overrides":{"containerConcurrency":-1}}}})", "containerConcurrency is not a whole number"},
      {R"({"a/b":{"knative_tuning":{"overrides":{"annotations":{"x":1}}}}})", "annotations.x is not a string"},
      {R"({"a/b":{"knative_tuning":{"target":1}}})", "unknown key 'target'"},
  };
  for (const auto& b : bad) {
    INFO(b.text);
    auto r = parse_overrides(b.text);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains(b.says));
  }
}

TEST_CASE("fleet: the overrides file in the seed's YAML reads as its JSON", "[fleet]") {
  auto y = parse_overrides(R"(# per-deployment controls
shop/web:
  memory_tuning:
    enforce: yes
)");
  REQUIRE_FALSE(y);  // YAML 1.2: yes is a string, not a boolean
  CHECK_THAT(y.error().message(), Catch::Contains("enforce is not true or false"));
  auto o = parse_overrides(R"(
shop/web:
  memory_tuning:
    enabled: true
    enforce: true
    overrides:
      app: {request: 256Mi, limit: "512Mi"}
  knative_tuning:
    overrides:
      containerConcurrency: 10
      annotations:
        autoscaling.knative.dev/target: "50"
pay/w:
  memory_tuning: {enabled: false}
)");
  INFO((o ? "" : o.error().message()));
  REQUIRE(o);
  const auto& w = o->at("shop/web");
  CHECK(w.enforce);
  CHECK(w.containers.at("app").request_bytes == 256 * kMi);
  CHECK(w.containers.at("app").limit_bytes == 512 * kMi);
  CHECK(w.knative.container_concurrency == 10);
  CHECK(w.knative.annotations.at("autoscaling.knative.dev/target") == "50");
  CHECK(o->at("pay/w").enabled == false);
}

namespace {

FleetReport report(const std::string& ns, const std::string& wl, const std::string& kind, const std::string& ctr,
                   uint64_t cur_req_mi, uint64_t cur_lim_mi, uint64_t avg_mi, uint64_t p95_mi, uint64_t max_mi) {
  FleetReport f;
  f.key = {ns, wl, ctr};
  f.kind = kind;
  auto& r = f.report;
  r.name = key_text(f.key);
  r.current = {cur_req_mi * kMi, cur_lim_mi * kMi};
  r.input.long_window = {avg_mi * kMi, p95_mi * kMi, max_mi * kMi, 720, 6 * 60 * ow::recommend::kMinuteNs,
                         6 * 60 * ow::recommend::kMinuteNs};
  r.rec = ow::recommend::recommend(r.input);
  r.decision = ow::recommend::decide(r.current, r.rec, std::nullopt, 0);
  return f;
}

}  // namespace

TEST_CASE("fleet: patches per kind, only what changes, overrides first, apply only when enforced", "[fleet]") {
  // 110/180/210 -> 224Mi/336Mi (the seed's example).
  std::vector<FleetReport> rs = {
      report("shop", "web", "Deployment", "app", 128, 256, 110, 180, 210),
      report("shop", "web", "Deployment", "same", 224, 336, 110, 180, 210),  // within hysteresis: not in the patch
      report("shop", "db", "StatefulSet", "pg", 128, 256, 110, 180, 210),
      report("pay", "agent", "DaemonSet", "a", 128, 256, 110, 180, 210),
      report("x", "lone", "Pod", "c", 128, 256, 110, 180, 210),
  };
  rs[2].override_values = ContainerOverride{std::nullopt, 1024 * kMi};
  rs[2].enforce = true;
  auto ps = workload_patches(rs, nullptr, {});
  REQUIRE(ps.size() == 4);
  std::map<std::string, json> by;
  for (const auto& p : ps) by[p["namespace"].get<std::string>() + "/" + p["name"].get<std::string>()] = p;
  CHECK(by["shop/web"]["patch"].dump() ==
        R"({"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"requests":{"memory":"224Mi"},"limits":{"memory":"336Mi"}}}]}}}})");
  CHECK(by["shop/web"]["command"] ==
        "kubectl patch deployment 'web' -n 'shop' --type strategic -p '" + by["shop/web"]["patch"].dump() + "'");
  CHECK(by["shop/web"]["containers"][1]["request_from"] == "template");
  CHECK(by["shop/web"]["apply"] == false);
  CHECK_THAT(by["shop/web"]["apply_reason"].get<std::string>(), Catch::Contains("enforcement is off"));
  CHECK(by["shop/db"]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi");
  CHECK(by["shop/db"]["containers"][0]["limit_from"] == "override");
  CHECK(by["shop/db"]["containers"][0]["request_from"] == "recommended");
  CHECK_THAT(by["pay/agent"]["command"].get<std::string>(), Catch::StartsWith("kubectl patch daemonset 'agent'"));
  CHECK(by["x/lone"]["patch"].is_null());
  CHECK_THAT(by["x/lone"]["apply_reason"].get<std::string>(), Catch::Contains("bare pod"));

  PatchOptions eo{true, "--enforce", true, "state.json"};
  auto enforced = workload_patches(rs, nullptr, eo);
  for (const auto& p : enforced) {
    INFO(p.dump());
    CHECK(p["apply"] == (p["name"] == "db"));
  }
  // Without a state file the cooldown cannot be kept: nothing is marked to apply.
  for (const auto& p : workload_patches(rs, nullptr, {true, "--enforce"})) {
    INFO(p.dump());
    CHECK(p["apply"] == false);
    if (p["name"] == "db") CHECK_THAT(p["apply_reason"].get<std::string>(), Catch::Contains("no --state file"));
  }
  rs[0].tuning_enabled = rs[1].tuning_enabled = false;
  auto off = workload_patches(rs, nullptr, {true, "--enforce"});
  CHECK(off[2]["name"] == "web");
  CHECK(off[2]["patch"].is_null());
  CHECK_THAT(off[2]["apply_reason"].get<std::string>(), Catch::Contains("disabled"));
}

TEST_CASE("fleet: an override that sets only a request above the limit takes the limit up with it", "[fleet]") {
  // 110/180/210 recommends 224Mi/336Mi; the override asks for 512Mi of request, the limit was 256Mi.
  std::vector<FleetReport> rs = {report("shop", "web", "Deployment", "app", 128, 256, 110, 180, 210)};
  rs[0].override_values = ContainerOverride{512 * kMi, std::nullopt};
  auto ps = workload_patches(rs, nullptr, {});
  REQUIRE(ps.size() == 1);
  INFO(ps[0].dump());
  const auto& res = ps[0]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"];
  CHECK(res["requests"]["memory"] == "512Mi");
  CHECK(res["limits"]["memory"] == "512Mi");  // the API server refuses a request above the limit
  CHECK_THAT(ps[0]["containers"][0]["limit_from"].get<std::string>(), Catch::Contains("raised to the request"));
}

TEST_CASE("fleet: a Knative Service's merge patch keeps its containers whole", "[fleet][knative]") {
  std::vector<FleetReport> rs = {report("kn", "hello", "Service", "user-container", 128, 256, 110, 180, 210)};
  ow::recommend::KnativeAdvice a;
  a.clause = "lower";
  a.target = 8;
  a.container_concurrency = 10;
  a.propose = true;
  a.rationale = "lower: ...";
  rs[0].knative = a;
  auto none = workload_patches(rs, nullptr, {});
  // Without the Services file only the concurrency part can be patched.
  CHECK(none[0]["patch"].dump() ==
        R"({"spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/target":"8"}},"spec":{"containerConcurrency":10}}}})");
  KnativeServices ks;
  ks["kn/hello"].containers = json::parse(R"([{"name":"user-container","image":"i","env":[{"name":"A","value":"1"}]}])");
  auto p = workload_patches(rs, &ks, {});
  CHECK(p[0]["patch_type"] == "merge");
  CHECK(p[0]["patch"]["spec"]["template"]["spec"]["containers"].dump() ==
        R"([{"name":"user-container","image":"i","env":[{"name":"A","value":"1"}],"resources":{"requests":{"memory":"224Mi"},"limits":{"memory":"336Mi"}}}])");
  CHECK_THAT(p[0]["command"].get<std::string>(), Catch::StartsWith("kubectl patch ksvc 'hello' -n 'kn' --type merge"));
  // A lone unnamed container is the pod's user-container; queue-proxy is not the Service's.
  rs.push_back(report("kn", "hello", "Service", "queue-proxy", 16, 32, 20, 30, 40));
  KnativeServices unnamed;
  unnamed["kn/hello"].containers = json::parse(R"([{"image":"i"}])");
  auto un = workload_patches(rs, &unnamed, {});
  CHECK(un[0]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "336Mi");
  CHECK(un[0]["patch"]["spec"]["template"]["spec"]["containers"].size() == 1);
  CHECK_THAT(un[0]["rationale"].dump(), Catch::Contains("queue-proxy: not a container of the Service's template"));
  rs.pop_back();
  ow::recommend::KnativeOverrides user;
  user.annotations["autoscaling.knative.dev/target"] = "40";
  rs[0].override_knative = user;
  rs[0].knative->target.reset();
  auto u = workload_patches(rs, &ks, {});
  CHECK(u[0]["patch"]["spec"]["template"]["metadata"]["annotations"]["autoscaling.knative.dev/target"] == "40");
}

TEST_CASE("fleet: the node path and the fleet path make the same recommendation from the same figures", "[fleet]") {
  // Pooled points whose figures are known; the node path gets the same
  // figures as its history store reports them (stats::WindowStats).
  FleetQuery q;
  q.end_ms = 6 * 3600 * 1000LL;
  q.window_ms = 6 * 3600 * 1000LL;
  q.short_window_ms = 15 * 60 * 1000LL;
  Group g;
  for (int i = 0; i < 720; ++i) g.points.push_back({(i + 1) * 30000LL, static_cast<double>((100 + i % 97) * kMi)});
  std::optional<uint64_t> oom = 250 * kMi;
  auto fin = fleet_input(g, q, oom);

  auto stats_of = [](const ow::recommend::WindowFigures& f, int64_t last_ns) {
    ow::stats::WindowStats w;
    w.ws_samples = f.samples;
    w.ws_avg_bytes = f.ws_avg_bytes;
    w.ws_p95_bytes = f.ws_p95_bytes;
    w.ws_max_bytes = f.ws_max_bytes;
    w.last_ts_ns = last_ns;
    w.first_ts_ns = last_ns - f.covered_ns;
    return w;
  };
  ow::recommend::Input nin;
  nin.long_window = ow::advisor::figures(stats_of(fin.long_window, q.end_ms * 1'000'000), q.window_ms * 1'000'000);
  REQUIRE(fin.short_window);
  nin.short_window = ow::advisor::figures(stats_of(*fin.short_window, q.end_ms * 1'000'000), q.short_window_ms * 1'000'000);
  nin.oom_used_bytes = oom;
  ow::recommend::Rules rules;
  rules.limit_max_bytes = 2048 * kMi;
  auto a = ow::recommend::recommend(fin, rules), b = ow::recommend::recommend(nin, rules);
  CHECK(a.request_bytes == b.request_bytes);
  CHECK(a.limit_bytes == b.limit_bytes);
  CHECK(a.rationale == b.rationale);
  CHECK(a.confidence == b.confidence);
  // And through build_fleet_reports, as the CLI runs it.
  FleetData d;
  g.kind = "Deployment";
  g.pods = {"p"};
  g.series = 1;
  d.ws[Key{"n", "w", "c"}] = g;
  d.oom_used[Key{"n", "w", "c"}] = *oom;
  FleetContext c;
  c.rules = rules;
  auto rs = build_fleet_reports(d, q, c);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].report.rec.rationale == b.rationale);
  CHECK(rs[0].report.decision.propose);  // no current values known: a change
}
