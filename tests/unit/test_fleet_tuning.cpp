// Per-workload tuning: the overrides file's profile, percentile and margins
// (read, validated, applied to that workload only), the RSS floor in the
// rules, and the dominant-pod test of a workload's per-pod maxima.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "fleet/aggregate.hpp"
#include "fleet/fleet_output.hpp"
#include "fleet/fleet_report.hpp"
#include "fleet/overrides.hpp"
#include "recommend/rules.hpp"

using namespace ow::fleet;
using ow::recommend::kMi;

TEST_CASE("tuning: profile, percentile and margins read from the overrides file; bad values named", "[fleet][tuning]") {
  auto o = parse_overrides(R"({"shop/web": {"profile": "dev",
      "memory_tuning": {"percentile": 0.99, "request_margin": 1.3, "limit_margin": 1.25}},
    "shop/db": {"profile": "edge", "memory_tuning": {"enabled": false}},
    "shop/plain": {}})");
  REQUIRE(o);
  const auto& w = o->at("shop/web");
  CHECK(w.profile == Profile::Dev);
  CHECK_FALSE(w.enabled);  // not given: the profile decides
  CHECK(w.percentile_pm == 990u);
  CHECK(w.request_margin_pm == 1300u);
  CHECK(w.limit_margin_pm == 1250u);
  CHECK(o->at("shop/db").profile == Profile::Edge);
  CHECK(o->at("shop/db").enabled == false);
  CHECK_FALSE(o->at("shop/plain").profile);
  CHECK_FALSE(o->at("shop/plain").percentile_pm);

  // The seed's YAML reads the same; 0.995 is three decimals.
  auto y = parse_overrides("shop/web:\n  memory_tuning:\n    percentile: 0.995\n    limit_margin: 2\n");
  REQUIRE(y);
  CHECK(y->at("shop/web").percentile_pm == 995u);
  CHECK(y->at("shop/web").limit_margin_pm == 2000u);

  struct Bad {
    const char *text, *says;
  };
  const Bad bad[] = {
      {R"({"a/b": {"profile": "prod"}})", "a/b.profile: 'prod' is not dev, edge or full"},
      {R"({"a/b": {"profile": true}})", "a/b.profile is not dev, edge or full"},
      {R"({"a/b": {"memory_tuning": {"percentile": 1.5}}})", "a/b.memory_tuning.percentile is 1.5, not a number from 0.5 to 1"},
      {R"({"a/b": {"memory_tuning": {"percentile": 0.3}}})", "a/b.memory_tuning.percentile is 0.3, not a number from 0.5 to 1"},
      {R"({"a/b": {"memory_tuning": {"percentile": "0.99"}}})", "a/b.memory_tuning.percentile is not a number"},
      {R"({"a/b": {"memory_tuning": {"percentile": 0.9999}}})", "a/b.memory_tuning.percentile 0.9999 has more than three decimals"},
      {R"({"a/b": {"memory_tuning": {"request_margin": 0.8}}})", "a/b.memory_tuning.request_margin is 0.8, not a number from 1 to 10"},
      {R"({"a/b": {"memory_tuning": {"limit_margin": 1e300}}})", "a/b.memory_tuning.limit_margin is 1e+300, not a number from 1 to 10"},
      {R"({"a/b": {"memory_tuning": {"limit_margin": null}}})", "a/b.memory_tuning.limit_margin is not a number"},
      // YAML's .inf and .nan are not read as numbers (yaml_json.hpp): refused as such.
      {"a/b:\n  memory_tuning:\n    percentile: .inf\n", "a/b.memory_tuning.percentile is not a number"},
      {"a/b:\n  memory_tuning:\n    request_margin: .nan\n", "a/b.memory_tuning.request_margin is not a number"},
      {R"({"a/b": {"memory_tuning": {"margin": 1.2}}})", "a/b.memory_tuning: unknown key 'margin'"},
  };
  for (const auto& b : bad) {
    INFO(b.text);
    auto r = parse_overrides(b.text);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == b.says);
  }
}

TEST_CASE("tuning: the rules' percentile names the term; the RSS floor raises and says so; clamps still win",
          "[recommend][tuning]") {
  using namespace ow::recommend;
  CHECK(percentile_name(950) == "ws_p95");
  CHECK(percentile_name(990) == "ws_p99");
  CHECK(percentile_name(995) == "ws_p99.5");
  CHECK(percentile_name(1000) == "ws_p100");

  Input in;
  in.long_window = {100 * kMi, 160 * kMi, 200 * kMi, 720, 6 * 60 * kMinuteNs, 6 * 60 * kMinuteNs};
  Rules r;
  auto plain = recommend(in, r);
  CHECK(plain.request_bytes == 192 * kMi);  // 160 × 1.2
  CHECK(plain.limit_bytes == 288 * kMi);    // 192 × 1.5
  CHECK_FALSE(plain.request_rss_floor);

  // RSS below what the working set gives: no effect.
  in.rss_p95_bytes = 150 * kMi;
  in.rss_max_bytes = 190 * kMi;
  auto low = recommend(in, r);
  CHECK(low.request_bytes == plain.request_bytes);
  CHECK(low.limit_bytes == plain.limit_bytes);
  CHECK(low.rationale == plain.rationale);

  // A JVM-like heap: anonymous memory above the working set's figures.
  in.rss_p95_bytes = 300 * kMi;
  in.rss_max_bytes = 500 * kMi + 1;
  auto up = recommend(in, r);
  CHECK(up.request_bytes == 304 * kMi);  // 300Mi rounded up to 16Mi
  CHECK(up.limit_bytes == 512 * kMi);    // request × 1.5 = 456Mi < rss_max rounded up
  CHECK(up.request_rss_floor);
  CHECK(up.limit_rss_floor);
  CHECK(up.request_term == "rss_p95 (RSS floor)");
  CHECK(up.limit_term == "rss_max (RSS floor)");
  CHECK(up.rationale ==
        "request = ws_p95 × 1.20 = 192.0Mi, a multiple of 16Mi, raised to 304Mi (RSS floor: rss_p95 300.0Mi cannot be "
        "reclaimed); limit = request × 1.50 = 456.0Mi, rounded up to 16Mi → 464Mi, raised to 512Mi (RSS floor: rss_max 500.0Mi "
        "cannot be reclaimed)");

  // The user's maximum still bounds it.
  r.request_max_bytes = 256 * kMi;
  auto capped = recommend(in, r);
  CHECK(capped.request_bytes == 256 * kMi);
  CHECK_THAT(capped.rationale, Catch::Contains("raised to 304Mi (RSS floor: rss_p95 300.0Mi cannot be reclaimed), "
                                               "clamped to the 256Mi maximum"));

  // The workload's percentile and margins.
  Rules w;
  w.percentile_pm = 990;
  w.request_p95_pm = 1300;
  Input plain_in;
  plain_in.long_window = in.long_window;
  auto mine = recommend(plain_in, w);
  CHECK(mine.request_term == "ws_p99 × 1.30");
  CHECK(mine.request_bytes == 208 * kMi);  // 160 × 1.3 = 208

  Rules bad;
  bad.percentile_pm = 1001;
  CHECK(check_rules(bad) == "percentile 1.001 is not between 0.5 and 1");
  bad = {};
  bad.limit_max_pm = 999;
  CHECK(check_rules(bad) == "margins must be between 1 and 10");
}

TEST_CASE("tuning: the percentile of a window by nearest rank", "[fleet][tuning]") {
  std::vector<Point> pts;
  for (int i = 1; i <= 100; ++i) pts.push_back({i * 1000, static_cast<double>(i * kMi)});
  CHECK(window_figures(pts, 0, 100'000).ws_p95_bytes == 95 * kMi);
  CHECK(window_figures(pts, 0, 100'000, 990).ws_p95_bytes == 99 * kMi);
  CHECK(window_figures(pts, 0, 100'000, 1000).ws_p95_bytes == 100 * kMi);
  CHECK(window_figures(pts, 0, 100'000, 500).ws_p95_bytes == 50 * kMi);
  CHECK(window_figures(pts, 0, 100'000, 995).ws_p95_bytes == 100 * kMi);  // ⌈99.5⌉ = 100th
}

TEST_CASE("tuning: one pod dominates when its max is at least twice every other pod's", "[fleet][tuning]") {
  CHECK_FALSE(dominant_pod({}));
  CHECK_FALSE(dominant_pod({{"a", 500 * kMi}}));  // one pod: nothing to stand out from
  auto d = dominant_pod({{"ds-bcdfg", 500 * kMi}, {"ds-hjklm", 100 * kMi}, {"ds-npqrs", 90 * kMi}});
  REQUIRE(d);
  CHECK(d->pod == "ds-bcdfg");
  CHECK(d->next_pod == "ds-hjklm");
  CHECK(d->max_bytes == 500 * kMi);
  CHECK(d->next_max_bytes == 100 * kMi);
  CHECK(d->ratio == Approx(5.0));
  // Exactly twice is dominant; just under is not; two big pods: neither.
  CHECK(dominant_pod({{"a", 200 * kMi}, {"b", 100 * kMi}}));
  CHECK_FALSE(dominant_pod({{"a", 200 * kMi - 1}, {"b", 100 * kMi}}));
  CHECK_FALSE(dominant_pod({{"a", 500 * kMi}, {"b", 480 * kMi}, {"c", 10 * kMi}}));
  // Idle pods beside a busy one; all idle is nothing.
  auto idle = dominant_pod({{"a", 0}, {"b", 0}, {"c", kMi}});
  REQUIRE(idle);
  CHECK(idle->pod == "c");
  CHECK(idle->ratio == 0);
  CHECK_FALSE(dominant_pod({{"a", 0}, {"b", 0}}));
}

TEST_CASE("tuning: a workload whose tuning is off gets no recommendation, and the output says why", "[fleet][tuning]") {
  std::vector<Series> ws;
  for (const char* pod : {"web-7d4b9c8f6-bcdfg", "db-0"}) {
    Series s;
    s.labels = {{"namespace", "shop"}, {"pod", pod}, {"container", "app"}};
    for (int i = 1; i <= 60; ++i) s.points.push_back({i * 60'000, 100.0 * kMi});
    ws.push_back(s);
  }
  FleetData d;
  d.ws = group_series(ws, LabelNames{});
  FleetQuery q;
  q.end_ms = 3'600'000;
  q.window_ms = 3'600'000;
  q.short_window_ms = 900'000;
  auto ov = parse_overrides(R"({"shop/db": {"memory_tuning": {"enabled": true}}})");
  REQUIRE(ov);
  FleetContext c;
  c.overrides = &*ov;
  c.profile = Profile::Dev;
  c.profile_from = "--profile";
  c.now_ns = q.end_ms * 1'000'000;
  auto rs = build_fleet_reports(d, q, c);
  REQUIRE(rs.size() == 2);
  const FleetReport& db = rs[0].key.workload == "db" ? rs[0] : rs[1];
  const FleetReport& web = rs[0].key.workload == "web" ? rs[0] : rs[1];
  CHECK(db.tuning_enabled);  // enabled: true beats the dev profile
  CHECK_FALSE(web.tuning_enabled);
  CHECK(web.tuning_reason ==
        "memory tuning is off for shop/web: profile dev (from --profile) disables it unless memory_tuning.enabled is true");
  CHECK_FALSE(web.report.decision.propose);
  SourceInfo src{"http://p:9090", q.end_ms, q.window_ms, q.short_window_ms, 30'000, 1, "OPRC_CRM_PROM_URL"};
  auto doc = fleet_document(rs, src);
  CHECK(doc["source"]["prometheus_from"] == "OPRC_CRM_PROM_URL");
  for (const auto& j : doc["containers"]) {
    INFO(j.dump());
    bool is_web = j["name"] == "shop/web/app";
    CHECK(j["recommended"].is_null() == is_web);
    CHECK(j["tuning"]["enabled"] == !is_web);
    CHECK(j["tuning"]["profile"] == "dev");
    CHECK(j["tuning"]["percentile"] == 0.95);
  }
  auto table = fleet_table(rs, src);
  CHECK_THAT(table, Catch::Contains("tuning off shop/web/app: memory tuning is off for shop/web: profile dev"));
  CHECK_THAT(table, Catch::Contains("source: Prometheus http://p:9090 (from OPRC_CRM_PROM_URL)"));
  CHECK(table.find("\nshop/web/app ") == std::string::npos);  // no row of figures
}
