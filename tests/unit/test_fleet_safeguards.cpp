// The fleet path's enforcement safeguards (node enforcement's plan_enforce on
// Kubernetes' request and limit), what an enforced patch carries and when it
// is held back, the state file kept between runs, and the hysteresis against
// the stored recommendation.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "fleet/fleet_report.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/patch.hpp"
#include "fleet/safeguards.hpp"
#include "recommend/gate.hpp"
#include "stats/time.hpp"
#include "util/units.hpp"

using namespace ow::fleet;
using ow::recommend::kMi;
using ow::recommend::kMinuteNs;

TEST_CASE("fleet safeguards: a limit moves at most 30 % a run, never below the p95 or usage + 32Mi", "[fleet][safeguards]") {
  // Raise: 512Mi -> 1Gi is capped at 512 × 1.3 = 665.6Mi, rounded up to 666Mi.
  auto up = step_limit(512 * kMi, 1024 * kMi, 300 * kMi, 300 * kMi);
  REQUIRE(up.bytes);
  CHECK(*up.bytes == 666 * kMi);
  CHECK_THAT(up.reason, Catch::StartsWith("limit: 512Mi → 666Mi") && Catch::Contains("at most 30 % per change"));
  // Lower: 512Mi -> 128Mi is capped at 512 × 0.7 = 358.4Mi -> 359Mi.
  auto down = step_limit(512 * kMi, 128 * kMi, 100 * kMi, 100 * kMi);
  REQUIRE(down.bytes);
  CHECK(*down.bytes == 359 * kMi);
  // ... but never below the observed p95,
  auto p95 = step_limit(512 * kMi, 128 * kMi, 400 * kMi, 100 * kMi);
  REQUIRE(p95.bytes);
  CHECK(*p95.bytes == 400 * kMi);
  CHECK_THAT(p95.reason, Catch::Contains("the observed ws p95 400.0Mi"));
  // ... nor below usage now + 32Mi, even when that is a raise past the recommendation.
  auto use = step_limit(256 * kMi, 150 * kMi, 200 * kMi, 240 * kMi);
  REQUIRE(use.bytes);
  CHECK(*use.bytes == 272 * kMi);
  CHECK_THAT(use.reason, Catch::Contains("usage 240.0Mi + 32Mi margin"));
  // Within the step: the recommendation itself.
  auto near = step_limit(512 * kMi, 600 * kMi, 300 * kMi, 300 * kMi);
  REQUIRE(near.bytes);
  CHECK(*near.bytes == 600 * kMi);
  // Nothing to step from: left alone, and said why.
  auto unknown = step_limit(std::nullopt, 600 * kMi, 300 * kMi, 300 * kMi);
  CHECK_FALSE(unknown.bytes);
  CHECK_THAT(unknown.reason, Catch::Contains("unknown") && Catch::Contains("30 % bound"));
  auto none = step_limit(ow::kUnlimited, 600 * kMi, 300 * kMi, 300 * kMi);
  CHECK_FALSE(none.bytes);
  CHECK_THAT(none.reason, Catch::Contains("no limit now"));
}

TEST_CASE("fleet safeguards: a request moves at most 30 % a run and is never lowered below the p95", "[fleet][safeguards]") {
  // A 3x jump: 100Mi -> 368Mi goes to 130Mi this run; the p95 above it does not push it further.
  auto up = step_request(100 * kMi, 368 * kMi, 300 * kMi);
  REQUIRE(up.bytes);
  CHECK(*up.bytes == 130 * kMi);
  CHECK_THAT(up.reason, Catch::StartsWith("request: 100Mi → 130Mi"));
  auto down = step_request(512 * kMi, 128 * kMi, 200 * kMi);
  REQUIRE(down.bytes);
  CHECK(*down.bytes == 359 * kMi);
  auto floor = step_request(512 * kMi, 400 * kMi, 450 * kMi);
  REQUIRE(floor.bytes);
  CHECK(*floor.bytes == 450 * kMi);
  auto held = step_request(256 * kMi, 128 * kMi, 300 * kMi);  // already under the p95: not lowered at all
  CHECK_FALSE(held.bytes);
  CHECK_THAT(held.reason, Catch::Contains("not lowered") && Catch::Contains("p95 300.0Mi"));
  CHECK_FALSE(step_request(std::nullopt, 128 * kMi, 100 * kMi).bytes);
}

TEST_CASE("fleet safeguards: the workload cooldown names when it ends", "[fleet][safeguards]") {
  const int64_t t = 1'800'000'000LL * 1'000'000'000;
  CHECK_FALSE(workload_cooldown(std::nullopt, t));
  auto c = workload_cooldown(t, t + 10 * kMinuteNs);
  REQUIRE(c);
  CHECK(*c == "cooldown: changed 10m ago, next after 30m, at " + ow::stats::format_rfc3339(t + 30 * kMinuteNs));
  CHECK_FALSE(workload_cooldown(t, t + 30 * kMinuteNs));
}

namespace {

using json = nlohmann::ordered_json;

FleetReport report(const std::string& kind, uint64_t cur_req_mi, uint64_t cur_lim_mi, uint64_t avg_mi, uint64_t p95_mi,
                   uint64_t max_mi) {
  FleetReport f;
  f.key = {"shop", "web", "app"};
  f.kind = kind;
  f.owner_from = "kube_pod_owner";
  auto& r = f.report;
  r.name = key_text(f.key);
  r.current = {cur_req_mi * kMi, cur_lim_mi * kMi};
  r.input.long_window = {avg_mi * kMi, p95_mi * kMi, max_mi * kMi, 720, 360 * kMinuteNs, 360 * kMinuteNs};
  r.rec = ow::recommend::recommend(r.input);
  r.decision = ow::recommend::decide(r.current, r.rec, std::nullopt, 0);
  f.usage_now_bytes = max_mi * kMi;
  f.enforce = true;
  return f;
}

}  // namespace

TEST_CASE("fleet safeguards: an enforced patch carries a bounded step, is recorded, then held by the cooldown",
          "[fleet][safeguards]") {
  const int64_t now = 1'800'000'000LL * 1'000'000'000;
  // Usage jumped about 3x: the recommendation is 368Mi of request (100Mi now);
  // the 560Mi limit is within hysteresis of 512Mi.
  std::vector<FleetReport> rs = {report("Deployment", 100, 512, 150, 300, 310)};
  REQUIRE(rs[0].report.rec.request_bytes == 368 * kMi);
  FleetState rec;
  PatchOptions o{true, "--enforce", true, "s.json", now, &rec};
  auto p = workload_patches(rs, nullptr, o);
  REQUIRE(p.size() == 1);
  INFO(p[0].dump());
  CHECK(p[0]["apply"] == true);
  CHECK(p[0]["owner_from"] == "kube_pod_owner");
  CHECK(p[0]["patch"].dump() ==
        R"({"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"requests":{"memory":"130Mi"}}}]}}}})");
  CHECK(p[0]["containers"][0]["request_from"] == "recommended, safeguarded");
  CHECK_THAT(p[0]["containers"][0]["safeguards"].get<std::string>(),
             Catch::Contains("request: 100Mi → 130Mi") && Catch::Contains("toward 368Mi (at most 30 % per change)"));
  CHECK_THAT(p[0]["apply_reason"].get<std::string>(), Catch::Contains("within the safeguards"));
  REQUIRE(rec.workloads.count("shop/web"));
  const auto& sw = rec.workloads.at("shop/web");
  CHECK(sw.last_applied_ms == now / 1'000'000);
  REQUIRE(sw.containers.at("app").applied);
  CHECK(sw.containers.at("app").applied->request_bytes == 130 * kMi);
  CHECK_FALSE(sw.containers.at("app").applied->limit_bytes);

  // Observe-only: the advice is the recommendation itself, unstepped.
  auto advice = workload_patches(rs, nullptr, {});
  CHECK(advice[0]["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] == "368Mi");
  CHECK(advice[0]["containers"][0]["safeguards"].is_null());

  // The next run 5 min later: the same step, held back by the cooldown until 30 min after the last.
  rs[0].last_applied_ns = now;
  FleetState rec2;
  o.now_ns = now + 5 * kMinuteNs;
  o.record = &rec2;
  auto again = workload_patches(rs, nullptr, o);
  CHECK(again[0]["apply"] == false);
  CHECK(again[0]["apply_reason"] == "held back by the cooldown: changed 5m ago, next after 30m, at " +
                                        ow::stats::format_rfc3339(now + 30 * kMinuteNs) +
                                        " (the last applied change, from --state s.json)");
  CHECK(rec2.workloads.empty());  // nothing applied, nothing recorded
  // After the cooldown it may be applied again.
  o.now_ns = now + 30 * kMinuteNs;
  CHECK(workload_patches(rs, nullptr, o)[0]["apply"] == true);
}

TEST_CASE("fleet safeguards: a Knative target-only change starts the cooldown too", "[fleet][safeguards][knative]") {
  const int64_t now = 1'800'000'000LL * 1'000'000'000;
  // Memory within hysteresis (224Mi/336Mi recommended, 224Mi/336Mi now); concurrency lowered 10 -> 8.
  std::vector<FleetReport> rs = {report("Service", 224, 336, 110, 180, 210)};
  rs[0].knative = ow::recommend::KnativeAdvice{"lower", 10, 8, 10, true, "lower: ..."};
  FleetState rec;
  PatchOptions o{true, "--enforce", true, "s.json", now, &rec};
  auto p = workload_patches(rs, nullptr, o);
  INFO(p[0].dump());
  CHECK(p[0]["apply"] == true);
  CHECK(p[0]["patch"]["spec"]["template"]["metadata"]["annotations"]["autoscaling.knative.dev/target"] == "8");
  const auto& sw = rec.workloads.at("shop/web");
  CHECK(sw.last_applied_ms == now / 1'000'000);
  REQUIRE(sw.knative);
  CHECK(sw.knative->target == 8);
  CHECK(sw.knative->container_concurrency == 10);
  // A second -20 % right after is not marked to apply.
  rs[0].last_applied_ns = now;
  rs[0].knative->target = 6;
  o.now_ns = now + kMinuteNs;
  auto q = workload_patches(rs, nullptr, o);
  CHECK(q[0]["apply"] == false);
  CHECK_THAT(q[0]["apply_reason"].get<std::string>(), Catch::StartsWith("held back by the cooldown: changed 1m ago"));
}

TEST_CASE("fleet safeguards: kinds oomwatch cannot patch get no patch, and say so", "[fleet][safeguards]") {
  std::vector<FleetReport> rs = {report("Rollout", 100, 512, 150, 300, 310)};
  PatchOptions o{true, "--enforce", true, "s.json", 0, nullptr};
  auto p = workload_patches(rs, nullptr, o);
  CHECK(p[0]["kind"] == "Rollout");
  CHECK(p[0]["patch"].is_null());
  CHECK(p[0]["command"].is_null());
  CHECK(p[0]["apply"] == false);
  CHECK_THAT(p[0]["apply_reason"].get<std::string>(), Catch::Contains("kind Rollout is not patched by oomwatch"));
  CHECK(p[0]["containers"][0]["request"] == "368Mi");  // the figures are still given, unstepped
}

TEST_CASE("fleet state: written and read back; a corrupt file is one clear error", "[fleet][safeguards]") {
  FleetState s;
  auto& w = s.workloads["shop/web"];
  w.last_applied_ms = 1'800'000'000'000;
  w.containers["app"].recommended = StoredFigures{368 * kMi, 560 * kMi, 1'799'999'000'000};
  w.containers["app"].applied = StoredFigures{130 * kMi, std::nullopt, 1'800'000'000'000};
  w.knative = StoredKnative{8, std::nullopt, 1'800'000'000'000};
  std::string text = state_text(s);
  CHECK_THAT(text, Catch::Contains("\"last_applied\": \"" + ow::stats::format_rfc3339(1'800'000'000'000LL * 1'000'000)));
  auto back = parse_state(text);
  REQUIRE(back);
  CHECK(state_text(*back) == text);
  const auto& bw = back->workloads.at("shop/web");
  CHECK(bw.containers.at("app").applied->request_bytes == 130 * kMi);
  CHECK_FALSE(bw.containers.at("app").applied->limit_bytes);
  CHECK(bw.knative->target == 8);

  struct Bad {
    const char *text, *says;
  };
  const Bad bad[] = {
      {"{\"version\": 1, \"workloads\": {", "not JSON"},
      {"[]", "the document is not an object"},
      {R"({"version": 2, "workloads": {}})", "version is not 1"},
      {R"({"version": 1, "workloads": []})", "workloads is not an object"},
      {R"({"version": 1, "workloads": {"a/b": {"last_applied_ms": "soon"}}})", "a/b.last_applied_ms is not an integer"},
      {R"({"version": 1, "workloads": {"a/b": {"containers": {"c": {"applied": {"request_bytes": -1, "at_ms": 1}}}}}})",
       "a/b.containers.c.applied.request_bytes is not a byte count"},
      {R"({"version": 1, "workloads": {"a/b": {"containers": {"c": {"recommended": {}}}}}})",
       "a/b.containers.c.recommended.at_ms is missing"},
  };
  for (const auto& b : bad) {
    INFO(b.text);
    auto r = parse_state(b.text);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains(b.says));
  }
  CHECK(parse_state(R"({"version": 1})"));  // no workloads yet
}

TEST_CASE("fleet state: a new recommendation within hysteresis of the stored one keeps the stored one", "[fleet][safeguards]") {
  const int64_t end = 1'800'000'000'000, win = 6 * 3'600'000;
  FleetQuery q;
  q.end_ms = end;
  q.window_ms = win;
  q.short_window_ms = 15 * 60'000;
  q.step_ms = 30'000;
  FleetData d;
  Group& g = d.ws[Key{"shop", "web", "app"}];
  g.kind = "Deployment";
  g.owner_from = "name";
  g.pods = {"web-7d4b9c8f6-bcdfg"};
  g.series = 1;
  for (int64_t t = end - win + 30'000; t <= end; t += 30'000) g.points.push_back({t, 200.0 * kMi});
  FleetContext c;
  c.now_ns = end * 1'000'000;
  auto fresh = build_fleet_reports(d, q, c);
  REQUIRE(fresh.size() == 1);
  const auto rec = fresh[0].report.rec;
  CHECK(fresh[0].usage_now_bytes == 200 * kMi);
  CHECK_FALSE(fresh[0].report.last);

  FleetState s;
  s.workloads["shop/web"].containers["app"].recommended = StoredFigures{rec.request_bytes + 16 * kMi, rec.limit_bytes + 512 * kMi, 1};
  s.workloads["shop/web"].last_applied_ms = end - 60'000;
  c.state = &s;
  auto held = build_fleet_reports(d, q, c);
  CHECK(held[0].report.rec.request_bytes == rec.request_bytes + 16 * kMi);  // within 20 % / 64Mi: kept
  CHECK(held[0].report.rec.limit_bytes == rec.limit_bytes);                 // moved far: the new one
  CHECK_THAT(held[0].report.rec.rationale, Catch::Contains("kept the stored recommendation's request"));
  REQUIRE(held[0].report.last);
  CHECK(held[0].report.last->ts_ns == 1'000'000);
  CHECK(held[0].last_applied_ns == (end - 60'000) * 1'000'000);

  // Recorded: an unchanged recommendation keeps its time, a changed one takes the run's.
  record_recommendations(s, held, end);
  const auto& r = *s.workloads.at("shop/web").containers.at("app").recommended;
  CHECK(r.request_bytes == rec.request_bytes + 16 * kMi);
  CHECK(r.limit_bytes == rec.limit_bytes);
  CHECK(r.at_ms == end);
  auto before = r.at_ms;
  record_recommendations(s, held, end + 1000);
  CHECK(s.workloads.at("shop/web").containers.at("app").recommended->at_ms == before);
}

TEST_CASE("fleet safeguards: a patch the safeguards empty says which held it", "[fleet][safeguards]") {
  // Recommended 224Mi/336Mi down from 1Gi/2Gi, but the p95 is above the
  // current request: the request is not lowered; the limit has no current value.
  std::vector<FleetReport> rs = {report("Deployment", 1024, 2048, 110, 1100, 1200)};
  rs[0].report.current.limit_bytes = std::nullopt;
  rs[0].report.rec.request_bytes = 224 * kMi;
  rs[0].report.rec.limit_bytes = 336 * kMi;
  rs[0].report.decision = ow::recommend::decide(rs[0].report.current, rs[0].report.rec, std::nullopt, 0);
  REQUIRE(rs[0].report.decision.propose);
  PatchOptions o{true, "--enforce", true, "s.json", 0, nullptr};
  auto p = workload_patches(rs, nullptr, o);
  INFO(p[0].dump());
  CHECK(p[0]["patch"].is_null());
  CHECK(p[0]["apply"] == false);
  CHECK_THAT(p[0]["apply_reason"].get<std::string>(),
             Catch::StartsWith("nothing to change within the safeguards: app request: not lowered") &&
                 Catch::Contains("app limit: not changed: its current value is unknown"));
  CHECK(p[0]["containers"][0]["request_from"] == "held by the safeguards");
  CHECK(p[0]["containers"][0]["request"] == "1Gi");
}
