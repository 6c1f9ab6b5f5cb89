// The presentation: JSON and YAML carry the same document (the seed's
// current/observed/recommended block per container), the table one row each.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "recommend/replay_report.hpp"
#include "recommend/report.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

using namespace ow::recommend;

namespace {
Report seed_report() {
  Report r;
  r.cgroup = "/kubepods/burstable/podu1/c1";
  r.name = "shop/web/function";
  r.kube = KubeName{"shop", "web", "function", "u1", "c1", "burstable"};
  r.current = {256 * kMi, 512 * kMi};
  r.request_from = "pods file";
  r.limit_from = "cgroup";
  r.input.long_window = {110 * kMi, 180 * kMi, 210 * kMi, 360, 6 * 60 * kMinuteNs, 6 * 60 * kMinuteNs};
  r.rec = recommend(r.input);
  r.decision = decide(r.current, r.rec, std::nullopt, 0);
  return r;
}
}  // namespace

TEST_CASE("report: JSON holds the seed's block with bytes beside quantities", "[recommend]") {
  auto j = nlohmann::json::parse(reports_json({seed_report()}));
  const auto& c = j["containers"][0];
  CHECK(c["name"] == "shop/web/function");
  CHECK(c["kubernetes"]["qos"] == "burstable");
  CHECK(c["current"]["request"] == "256Mi");
  CHECK(c["current"]["limit"] == "512Mi");
  CHECK(c["current"]["request_from"] == "pods file");
  CHECK(c["observed"]["ws_avg"] == "110.0Mi");
  CHECK(c["observed"]["ws_p95_bytes"] == 180 * kMi);
  CHECK(c["observed"]["window"] == "6h");
  CHECK(c["observed"]["short"].is_null());
  CHECK(c["recommended"]["request"] == "224Mi");
  CHECK(c["recommended"]["limit"] == "336Mi");
  CHECK(c["confidence"] == "high");
  CHECK(c["propose"] == true);  // limit 512 -> 336 is -34 %
  CHECK(c["rationale"].get<std::string>().find("ws_p95 × 1.20 = 216.0Mi, rounded up to 16Mi → 224Mi") == 10);
}

TEST_CASE("report: YAML is the same document, strings quoted", "[recommend]") {
  Report r = seed_report();
  r.kube.reset();
  r.current.limit_bytes = ow::kUnlimited;
  r.current.request_bytes.reset();
  r.request_from.clear();
  std::string y = reports_yaml({r});
  CHECK(y.find("containers:\n- name: \"shop/web/function\"\n  cgroup: \"/kubepods/burstable/podu1/c1\"\n  kubernetes: null\n"
               "  current:\n    request: null\n    limit: \"max\"\n") == 0);
  CHECK(y.find("  recommended:\n    request: \"224Mi\"\n    limit: \"336Mi\"\n") != std::string::npos);
  CHECK(y.find("  propose: true\n") != std::string::npos);
  CHECK(reports_yaml({}) == "containers: []\n");
}

TEST_CASE("report: the table has a header, a row and the rationale", "[recommend]") {
  std::string t = reports_table({seed_report()});
  CHECK(t.rfind("NAME", 0) == 0);
  CHECK(t.find("shop/web/function") != std::string::npos);
  CHECK(t.find("224Mi") != std::string::npos);
  CHECK(t.find("\n    request = ws_p95 × 1.20") != std::string::npos);
  CHECK(t.find("\n    decision (against current): ") != std::string::npos);
  Report r = seed_report();
  r.last = LastRecommendation{1'700'000'000'000'000'000, 224 * kMi, 336 * kMi, "high", "why"};
  r.compared_to = "last recommendation";
  CHECK(reports_table({r}).find("\n    last recommendation: 224Mi / 336Mi at 2023-11-14T22:13:20.000Z\n") != std::string::npos);
  auto j = nlohmann::json::parse(reports_json({r}));
  CHECK(j["containers"][0]["last_recommendation"]["at"] == "2023-11-14T22:13:20.000Z");
  CHECK(j["containers"][0]["compared_to"] == "last recommendation");
  CHECK(nlohmann::json::parse(reports_json({seed_report()}))["containers"][0]["last_recommendation"].is_null());
}

TEST_CASE("report: tables keep their columns under their headers with long names", "[recommend]") {
  Report a = seed_report(), b = seed_report();
  b.name = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0123456789abcdef.slice/cri-containerd-c1.scope";
  b.current.limit_bytes = 96 * kMi;
  // Each header's right edge is where its figures end, on every row.
  auto edges = [](const std::string& table) {
    std::vector<std::string> rows;
    for (auto l : ow::split_lines(table))
      if (!l.empty() && l[0] != ' ') rows.emplace_back(l);
    return rows;
  };
  auto rows = edges(reports_table({a, b}));
  REQUIRE(rows.size() == 3);
  size_t limit_end = rows[0].find("LIMIT") + 5;
  CHECK(rows[1].substr(0, limit_end).back() != ' ');
  CHECK(rows[2].substr(limit_end - 4, 4) == "96Mi");
  CHECK(rows[1].size() == rows[2].size());
  ReplayReport ra, rb;
  ra.name = a.name;
  rb.name = b.name;
  ra.current.limit_bytes = rb.current.limit_bytes = 96 * kMi;
  auto rrows = edges(replays_table({ra, rb}));
  REQUIRE(rrows.size() == 7);
  size_t rule_at = rrows[0].find("RULE");
  for (size_t i = 1; i < rrows.size(); ++i) {
    INFO(rrows[i]);
    CHECK((rrows[i].compare(rule_at, 4, "seed") == 0 || rrows[i].compare(rule_at, 3, "vpa") == 0 ||
           rrows[i].compare(rule_at, 7, "current") == 0));
  }
}
