// Knative concurrency advice, table-tested: each clause, its boundaries,
// the minimum target, user settings never changed, other metrics, the
// cooldown; and the Services file.
#include <catch2/catch.hpp>

#include "fleet/knative_services.hpp"
#include "recommend/knative.hpp"
#include "recommend/rules.hpp"

using namespace ow::recommend;

TEST_CASE("knative: the lower and raise clauses and their boundaries", "[fleet][knative]") {
  struct Row {
    const char* what;
    uint64_t ws_max_mi, limit_mi;
    std::optional<double> conc, queue;
    std::optional<double> target;
    int64_t cc;
    const char* clause;
    std::optional<int64_t> new_target, new_cc;
  };
  const Row rows[] = {
      {"near and above target: lower 20 %, finite cc", 240, 256, 16, 0, 10, 0, "lower", 8, 10},
      {"exactly 90 %: near", 900, 1000, 16, 0, 10, 0, "lower", 8, 10},
      {"just under 90 %: neither", 899, 1000, 16, 0, 10, 0, "none", {}, {}},
      {"near, cc already finite: kept", 240, 256, 16, 0, 10, 12, "lower", 8, {}},
      {"near but at target: neither", 240, 256, 10, 0, 10, 0, "none", {}, {}},
      {"target 1 cannot go lower", 240, 256, 3, 0, 1, 0, "lower", {}, 1},
      {"target 2 -> 1", 240, 256, 3, 0, 2, 0, "lower", 1, 2},
      {"no target annotation: containerConcurrency is the target", 240, 256, 30, 0, {}, 20, "lower", 16, {}},
      {"no target, unlimited: Knative's 100", 240, 256, 150, 0, {}, 0, "lower", 80, 100},
      {"far, queueing, below target: raise 20 %", 150, 512, 20, 2, 50, 0, "raise", 60, {}},
      {"exactly 60 %: far", 600, 1000, 20, 1, 50, 0, "raise", 60, {}},
      {"just above 60 %: neither", 601, 1000, 20, 1, 50, 0, "none", {}, {}},
      {"far, no queue: neither", 150, 512, 20, 0.5, 50, 0, "none", {}, {}},
      {"far, queue, at target: neither", 150, 512, 50, 3, 50, 0, "none", {}, {}},
      {"raise of 4 rounds to no step", 150, 512, 1, 3, 4, 0, "raise", {}, {}},
      {"no concurrency series", 240, 256, {}, {}, 10, 0, "none", {}, {}},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    KnativeInput in;
    in.ws_max_bytes = r.ws_max_mi * kMi;
    in.limit_bytes = r.limit_mi * kMi;
    in.concurrency_p95 = r.conc;
    in.queue_depth_p95 = r.queue;
    in.settings.target = r.target;
    in.settings.container_concurrency = r.cc;
    auto a = advise_knative(in);
    INFO(a.rationale);
    CHECK(a.clause == r.clause);
    CHECK(a.target == r.new_target);
    CHECK(a.container_concurrency == r.new_cc);
    CHECK(a.propose == (r.new_target.has_value() || r.new_cc.has_value()));
  }
}

TEST_CASE("knative: rationale names the clause and figures; user settings and other metrics left alone", "[fleet][knative]") {
  KnativeInput in;
  in.ws_max_bytes = 240 * kMi;
  in.limit_bytes = 256 * kMi;
  in.concurrency_p95 = 16;
  in.queue_depth_p95 = 0;
  in.settings.target = 10;
  auto a = advise_knative(in);
  CHECK(a.rationale ==
        "lower: ws_max 240.0Mi is 93.8 % of the limit 256.0Mi (>= 0.90) and concurrency p95 16 > target 10 -> target 8 "
        "(× 0.80); containerConcurrency 0 (unlimited) -> 10 (the old target as a hard bound)");
  auto fixed = in;
  fixed.overrides.annotations[kTargetAnnotation] = "10";
  fixed.overrides.container_concurrency = 0;
  auto f = advise_knative(fixed);
  CHECK(f.clause == "lower");
  CHECK_FALSE(f.target);
  CHECK_FALSE(f.container_concurrency);
  CHECK_FALSE(f.propose);
  CHECK_THAT(f.rationale, Catch::Contains("target kept: set explicitly") && Catch::Contains("containerConcurrency kept"));
  auto rps = in;
  rps.settings.metric = "rps";
  CHECK(advise_knative(rps).rationale == "autoscaling metric is rps, not concurrency: no concurrency advice");
  CHECK_FALSE(advise_knative(rps).propose);
  auto cool = in;
  cool.cooling_down = true;
  auto c = advise_knative(cool);
  CHECK(c.target == 8);
  CHECK_FALSE(c.propose);
  CHECK_THAT(c.rationale, Catch::EndsWith("held back: the memory recommendation's cooldown is running"));
  auto nolimit = in;
  nolimit.limit_bytes = 0;
  CHECK(advise_knative(nolimit).clause == "none");
}

TEST_CASE("knative: Services file, a List or one Service; bad values named", "[fleet][knative]") {
  auto k = ow::fleet::parse_knative_services(R"({"items":[{"metadata":{"name":"a","namespace":"n"},"spec":{"template":{
    "metadata":{"annotations":{"autoscaling.knative.dev/target":"12.5","autoscaling.knative.dev/metric":"concurrency",
    "autoscaling.knative.dev/targetBurstCapacity":"-1"}},"spec":{"containerConcurrency":4,"containers":[{"name":"c"}]}}}}]})");
  REQUIRE(k);
  const auto& s = k->at("n/a");
  CHECK(s.settings.target == 12.5);
  CHECK(s.settings.container_concurrency == 4);
  CHECK(s.settings.target_burst_capacity == -1);
  CHECK(s.containers.size() == 1);
  auto one = ow::fleet::parse_knative_services(R"({"metadata":{"name":"b"}})");
  REQUIRE(one);
  CHECK(one->count("default/b") == 1);
  CHECK(one->at("default/b").settings.container_concurrency == 0);
  struct Bad {
    const char *text, *says;
  };
  const Bad bad[] = {
      {"[]", "not JSON"},
      {R"({"items":{}})", "items is not a list"},
      {R"({"metadata":{}})", "without metadata.name"},
      {R"({"metadata":{"name":"x"},"spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/target":"0"}}}}})",
       "annotation autoscaling.knative.dev/target '0' is not a positive number"},
      {R"({"metadata":{"name":"x"},"spec":{"template":{"spec":{"containerConcurrency":-2}}}})", "containerConcurrency -2"},
      // Numbers strtod takes whose arithmetic (× 1.2 into an int64) is undefined.
      {R"({"metadata":{"name":"x"},"spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/target":"inf"}}}}})",
       "target 'inf' is not a positive number up to 1e9"},
      {R"({"metadata":{"name":"x"},"spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/target":"1e300"}}}}})",
       "target '1e300' is not a positive number up to 1e9"},
      {R"({"metadata":{"name":"x"},"spec":{"template":{"metadata":{"annotations":{"autoscaling.knative.dev/target":"nan"}}}}})",
       "target 'nan' is not a positive number"},
  };
  for (const auto& b : bad) {
    INFO(b.text);
    auto r = ow::fleet::parse_knative_services(b.text);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains(b.says));
  }
}
