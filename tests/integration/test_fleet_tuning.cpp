// Per-workload tuning against a real Prometheus (Debian's, serving a TSDB
// promtool built from series generated here): a workload whose overrides
// ask for the 0.99 percentile gets a higher request than a twin with the
// same samples at the default 0.95; a DaemonSet pod using 5x its siblings is
// named beside the pooled figure; a JVM-like container whose RSS is above its
// working set is floored at its RSS; profiles turn tuning off; the seed's
// OPRC_CRM_PROM_URL is the default --prometheus. The Prometheus, its TSDB and
// the files are removed on every path (destructors).
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
constexpr int kEvery = 30, kPoints = 6 * 3600 / kEvery - 1;  // k = 0..719, k = 0 the newest

struct Tsdb {
  owtest::Prometheus prom;
  int64_t end = 0;
  bool ok = false;
  std::string err;
  Tsdb() {
    end = (::time(nullptr) / 60) * 60 - 120;
    std::vector<owtest::OmFamily> f(2);
    f[0].name = "container_memory_working_set_bytes";
    f[1].name = "container_memory_rss";
    auto series = [&](const std::string& pod, auto value) {
      owtest::OmSeries s{"namespace=\"tun\",pod=\"" + pod + "\",container=\"app\",id=\"/" + pod + "\"", {}};
      for (int k = kPoints; k >= 0; --k) s.points.push_back({end - 15 - kEvery * k, value(k)});
      return s;
    };
    // web and twin: the same samples, 100Mi with a 200Mi spike every 33rd
    // point (3 %: above the p95's rank, inside the p99's).
    auto spiky = [](int k) { return (k % 33 == 0 ? 200 : 100) * kMi; };
    for (const char* pod : {"web-7d4b9c8f6-bcdfg", "web-7d4b9c8f6-hjklm", "twin-7d4b9c8f6-bcdfg", "twin-7d4b9c8f6-hjklm"})
      f[0].series.push_back(series(pod, spiky));
    // agent: a DaemonSet whose pod on one node uses 5x the others'.
    f[0].series.push_back(series("agent-bcdfg", [](int) { return 500 * kMi; }));
    f[0].series.push_back(series("agent-hjklm", [](int) { return 100 * kMi; }));
    f[0].series.push_back(series("agent-npqrs", [](int k) { return (90 + k % 10) * kMi; }));
    // jvm: a working set of 100Mi over an RSS of 300Mi, 600Mi once.
    f[0].series.push_back(series("jvm-7d4b9c8f6-bcdfg", [](int) { return 100 * kMi; }));
    f[1].series.push_back(series("jvm-7d4b9c8f6-bcdfg", [](int k) { return (k == 100 ? 600 : 300) * kMi; }));
    err = owtest::serve_families(prom, f);
    ok = err.empty();
  }
  std::vector<std::string> args(std::vector<std::string> extra, bool with_url = true) const {
    std::vector<std::string> argv{owtest::oomwatch_bin(), "recommend"};
    if (with_url) argv.insert(argv.end(), {"--prometheus", prom.base()});
    argv.insert(argv.end(), {"--window", "6h", "--short-window", "15m", "--end", std::to_string(end), "--step", "30s"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  owtest::CmdResult recommend(std::vector<std::string> extra) const { return owtest::run(args(extra), 120); }
};

const json& container(const json& doc, const std::string& name) {
  for (const auto& c : doc["containers"])
    if (c["name"] == name) return c;
  FAIL("no container " << name << " in " << doc.dump());
  static json none;
  return none;
}

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

}  // namespace

TEST_CASE("fleet tuning: percentile per workload, the dominant pod, the RSS floor, profiles, OPRC_CRM_PROM_URL",
          "[fleet][tuning][integration][hosttools]") {
  REQUIRE(owtest::exists("/usr/bin/prometheus"));
  REQUIRE(owtest::exists("/usr/bin/promtool"));
  Tsdb t;
  INFO(t.err);
  REQUIRE(t.ok);
  owtest::TmpTree dir("owtest-fleet-tuning");
  const std::string ovr = dir.path + "/overrides.yaml";
  std::ofstream(ovr) << "tun/web:\n  memory_tuning:\n    percentile: 0.99\n";

  SECTION("a workload at the 0.99 percentile gets a higher request than the same data at 0.95") {
    auto r = t.recommend({"--overrides", ovr, "--format", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json doc = json::parse(r.out);
    const json& web = container(doc, "tun/web/app");
    const json& twin = container(doc, "tun/twin/app");
    CHECK(web["observed"]["ws_p95_bytes"] == 200 * 1048576);  // the workload's percentile: p99
    CHECK(twin["observed"]["ws_p95_bytes"] == 100 * 1048576);
    CHECK(web["recommended"]["request_bytes"] == 240 * 1048576);   // 200Mi × 1.20
    CHECK(twin["recommended"]["request_bytes"] == 160 * 1048576);  // ws_avg 103.0Mi × 1.50 = 154.5Mi -> 160Mi
    CHECK(web["recommended"]["request_bytes"].get<uint64_t>() > twin["recommended"]["request_bytes"].get<uint64_t>());
    CHECK(web["recommended"]["request_term"] == "ws_p99 × 1.20");
    CHECK(web["tuning"]["percentile"] == 0.99);
    CHECK(web["tuning"]["from"] == "overrides file");
    CHECK(twin["tuning"]["percentile"] == 0.95);
    CHECK(twin["tuning"]["from"] == "default");
    auto tab = t.recommend({"--overrides", ovr, "--format", "table"});
    REQUIRE(tab.exit_code == 0);
    CHECK_THAT(tab.out, Catch::Contains("tuning tun/web/app: percentile 0.99, request margin 1.2, limit margin 1.1 "
                                        "(overrides file)"));
    CHECK(tab.out.find("tuning tun/twin/app") == std::string::npos);
    // Margins, for that workload only.
    std::ofstream(ovr, std::ios::trunc) << R"({"tun/twin": {"memory_tuning": {"request_margin": 2, "limit_margin": 3}}})";
    auto m = t.recommend({"--overrides", ovr, "--format", "json"});
    REQUIRE(m.exit_code == 0);
    json md = json::parse(m.out);
    CHECK(container(md, "tun/twin/app")["recommended"]["request_bytes"] == 208 * 1048576);  // 103.0 × 1.5 < 100 × 2 = 200 -> 208
    CHECK(container(md, "tun/twin/app")["recommended"]["limit_bytes"] == 608 * 1048576);    // 200 × 3 = 600 -> 608
    CHECK(container(md, "tun/web/app")["recommended"]["request_bytes"] == 160 * 1048576);   // the defaults
  }

  SECTION("one pod of a DaemonSet at 5x the others is named beside the pooled figure, in JSON and the table") {
    auto r = t.recommend({"--format", "json"});
    REQUIRE(r.exit_code == 0);
    json doc = json::parse(r.out);
    const json& agent = container(doc, "tun/agent/app");
    CHECK(agent["workload"]["kind"] == "DaemonSet");
    REQUIRE(agent["dominant_pod"].is_object());
    CHECK(agent["dominant_pod"]["pod"] == "agent-bcdfg");
    CHECK(agent["dominant_pod"]["max_bytes"] == 500 * 1048576);
    CHECK(agent["dominant_pod"]["next_pod"] == "agent-hjklm");
    CHECK(agent["dominant_pod"]["next_max_bytes"] == 100 * 1048576);
    CHECK(agent["dominant_pod"]["ratio"] == 5.0);
    CHECK(agent["observed"]["ws_max_bytes"] == 500 * 1048576);
    CHECK(container(doc, "tun/web/app")["dominant_pod"].is_null());  // pods alike
    auto tab = t.recommend({"--format", "table"});
    REQUIRE(tab.exit_code == 0);
    CHECK_THAT(tab.out, Catch::Contains("pods tun/agent/app: pod agent-bcdfg max 500.0Mi is 5.0x the next pod's "
                                        "(agent-hjklm 100.0Mi); the pooled ws_max 500.0Mi is this pod's"));
    CHECK(tab.out.find("pods tun/web/app") == std::string::npos);
  }

  SECTION("the RSS floor keeps the JVM's request and limit above its anonymous memory, and says so") {
    auto r = t.recommend({"--format", "json"});
    REQUIRE(r.exit_code == 0);
    json doc = json::parse(r.out);
    const json& jvm = container(doc, "tun/jvm/app");
    CHECK(jvm["observed"]["ws_max_bytes"] == 100 * 1048576);
    CHECK(jvm["recommended"]["request_bytes"] == 304 * 1048576);  // rss p95 300Mi, rounded up
    CHECK(jvm["recommended"]["limit_bytes"] == 608 * 1048576);    // rss max 600Mi, rounded up
    CHECK(jvm["recommended"]["request_term"] == "rss_p95 (RSS floor)");
    CHECK(jvm["recommended"]["limit_term"] == "rss_max (RSS floor)");
    REQUIRE(jvm["rss_floor"].is_object());
    CHECK(jvm["rss_floor"]["request"] == true);
    CHECK(jvm["rss_floor"]["limit"] == true);
    CHECK(jvm["rss_floor"]["rss_max_bytes"] == 600 * 1048576);
    CHECK(container(doc, "tun/web/app")["rss_floor"].is_null());  // no RSS series
    auto tab = t.recommend({"--format", "table"});
    REQUIRE(tab.exit_code == 0);
    CHECK_THAT(tab.out, Catch::Contains("rss floor tun/jvm/app: the RSS floor decided the request 304Mi from rss_p95 "
                                        "300.0Mi and limit 608Mi from rss_max 600.0Mi"));
  }

  SECTION("profiles: dev turns tuning off unless enabled; a workload's own profile; the output says why") {
    std::ofstream(ovr, std::ios::trunc) << R"({"tun/jvm": {"memory_tuning": {"enabled": true}}})";
    auto r = t.recommend({"--overrides", ovr, "--profile", "dev", "--format", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json doc = json::parse(r.out);
    CHECK(container(doc, "tun/jvm/app")["recommended"].is_object());
    const json& web = container(doc, "tun/web/app");
    CHECK(web["recommended"].is_null());
    CHECK(web["propose"] == false);
    CHECK(web["tuning"]["enabled"] == false);
    CHECK(web["tuning"]["reason"] ==
          "memory tuning is off for tun/web: profile dev (from --profile) disables it unless memory_tuning.enabled is true");
    auto p = t.recommend({"--overrides", ovr, "--profile", "dev", "--format", "patch"});
    REQUIRE(p.exit_code == 0);
    json w = by_workload(p.out);
    CHECK(w["web"]["patch"].is_null());
    CHECK_THAT(w["web"]["apply_reason"].get<std::string>(), Catch::Contains("profile dev (from --profile)"));
    CHECK(w["jvm"]["patch"].is_object());

    // Without --profile: full, but a workload can name its own.
    std::ofstream(ovr, std::ios::trunc) << "tun/agent: {profile: dev}\ntun/web: {profile: edge}\n";
    auto own = t.recommend({"--overrides", ovr, "--format", "table"});
    REQUIRE(own.exit_code == 0);
    CHECK_THAT(own.out, Catch::Contains("tuning off tun/agent/app: memory tuning is off for tun/agent: profile dev "
                                        "(from overrides file)"));
    CHECK(own.out.find("tuning off tun/web/app") == std::string::npos);
    CHECK(own.out.find("tuning off tun/twin/app") == std::string::npos);
  }

  SECTION("OPRC_CRM_PROM_URL is the default --prometheus; an explicit flag or a node flag wins") {
    auto e = owtest::run([&] {
      auto a = t.args({"--format", "json"}, false);
      a.insert(a.begin(), {"env", "OPRC_CRM_PROM_URL=" + t.prom.base()});
      return a;
    }(), 120);
    INFO(e.err);
    REQUIRE(e.exit_code == 0);
    json doc = json::parse(e.out);
    CHECK(doc["source"]["prometheus"] == t.prom.base());
    CHECK(doc["source"]["prometheus_from"] == "OPRC_CRM_PROM_URL");
    CHECK(doc["containers"].size() == 4);  // web, twin, agent, jvm
    auto tab = owtest::run([&] {
      auto a = t.args({}, false);
      a.insert(a.begin(), {"env", "OPRC_CRM_PROM_URL=" + t.prom.base()});
      return a;
    }(), 120);
    REQUIRE(tab.exit_code == 0);
    CHECK_THAT(tab.out, Catch::Contains("source: Prometheus " + t.prom.base() + " (from OPRC_CRM_PROM_URL)"));
    // An explicit --prometheus wins over a URL that would fail.
    auto x = owtest::run([&] {
      auto a = t.args({"--format", "json"});
      a.insert(a.begin(), {"env", "OPRC_CRM_PROM_URL=https://nowhere.invalid"});
      return a;
    }(), 120);
    REQUIRE(x.exit_code == 0);
    CHECK(json::parse(x.out)["source"]["prometheus_from"] == "--prometheus");
    // --db asks for the node: the variable is not used.
    auto node = owtest::run({"env", "OPRC_CRM_PROM_URL=https://nowhere.invalid", owtest::oomwatch_bin(), "recommend",
                             "--db", dir.path + "/none.db"});
    CHECK(node.exit_code == 1);
    CHECK_THAT(node.err, Catch::Contains("none.db"));
    // A bad URL in the variable is named as the variable.
    auto bad = owtest::run({"env", "OPRC_CRM_PROM_URL=https://nowhere.invalid", owtest::oomwatch_bin(), "recommend"});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::StartsWith("oomwatch: OPRC_CRM_PROM_URL=https://nowhere.invalid: https is not supported"));
  }

  SECTION("bad tuning input: one line each, exit 2, nothing printed") {
    struct Bad {
      std::string file;
      std::vector<std::string> args;
      std::string says;
    };
    const Bad bad[] = {
        {"tun/web:\n  memory_tuning:\n    percentile: 1.5\n", {},
         "oomwatch: --overrides " + ovr + ": tun/web.memory_tuning.percentile is 1.5, not a number from 0.5 to 1\n"},
        {R"({"tun/web": {"memory_tuning": {"request_margin": "1.3"}}})", {},
         "oomwatch: --overrides " + ovr + ": tun/web.memory_tuning.request_margin is not a number\n"},
        {R"({"tun/web": {"profile": "prod"}})", {},
         "oomwatch: --overrides " + ovr + ": tun/web.profile: 'prod' is not dev, edge or full\n"},
        {"{}", {"--profile", "prod"}, "oomwatch: --profile: 'prod' is not dev, edge or full\n"},
    };
    for (const auto& b : bad) {
      INFO(b.says);
      std::ofstream(ovr, std::ios::trunc) << b.file;
      std::vector<std::string> extra{"--overrides", ovr};
      extra.insert(extra.end(), b.args.begin(), b.args.end());
      auto r = t.recommend(extra);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(r.err == b.says);
    }
    auto node = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", dir.path + "/none.db", "--profile", "dev"});
    CHECK(node.exit_code == 2);
    CHECK_THAT(node.err, Catch::Contains("--profile applies to Prometheus only"));
  }
}
