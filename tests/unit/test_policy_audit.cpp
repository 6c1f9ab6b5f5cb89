// Audit records: the documented keys first and in order, exact values, "max" for
// a missing limit, RFC 3339 timestamps with milliseconds.
#include <catch2/catch.hpp>

#include <algorithm>

#include "policy/audit.hpp"
#include "test_policy_fixture.hpp"

using namespace owtest::policy;

namespace {
constexpr int64_t kTs = 1714564800123456789;  // 2024-05-01T12:00:00.123456789Z

Plan sibling_plan(Incident& in) {
  in = incident(0, TriggerKind::oom_kill);
  in.trigger.victim_rss_bytes = 10 * MiB;
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),
                 sib("/p/c", 300 * MiB, 424 * MiB, 250 * MiB, 350 * MiB)};
  return plan(in, strict(), {});
}
}  // namespace

TEST_CASE("rfc3339_ms: UTC, milliseconds truncated", "[policy]") {
  CHECK(rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(rfc3339_ms(kTs) == "2024-05-01T12:00:00.123Z");
  CHECK(rfc3339_ms(999'999) == "1970-01-01T00:00:00.000Z");
  CHECK(rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("audit record: the documented keys first, in order, then the rest", "[policy]") {
  Incident in;
  auto pl = sibling_plan(in);
  REQUIRE(pl.result == Outcome::planned);
  auto j = audit_record(pl, in.trigger, true, kTs);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  const std::vector<std::string> want = {"oom_cgroup", "added_memory", "adjusted_cgroups", "ts", "trigger",
                                         "source", "dry_run", "limits_before", "limits_after", "result",
                                         "reason", "need", "from_global", "headroom", "growth_rate", "streak",
                                         "victim_rss"};
  CHECK(keys == want);
  std::vector<std::string> entry_keys;
  for (const auto& [k, v] : j["adjusted_cgroups"][0].items()) entry_keys.push_back(k);
  CHECK(entry_keys == std::vector<std::string>{"name", "reduced_memory"});
}

TEST_CASE("audit line: exact values for a sibling donation in a dry run", "[policy]") {
  Incident in;
  auto pl = sibling_plan(in);
  auto line = audit_line(pl, in.trigger, true, kTs);
  const std::string head =
      R"({"oom_cgroup":"/p/a","added_memory":16777216,)"
      R"("adjusted_cgroups":[{"name":"/p/b","reduced_memory":16777216}],)"
      R"("ts":"2024-05-01T12:00:00.123Z","trigger":"oom_kill","source":"siblings","dry_run":true,)"
      R"("limits_before":{"/p/b":419430400,"/p/a":209715200},)"
      R"("limits_after":{"/p/b":402653184,"/p/a":226492416},"result":"planned","reason":")";
  CHECK(line.substr(0, head.size()) == head);
  const std::string tail = R"("need":16777216,"from_global":0,"headroom":0,"growth_rate":0,"streak":1,"victim_rss":10485760})" "\n";
  REQUIRE(line.size() > tail.size());
  CHECK(line.substr(line.size() - tail.size()) == tail);
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
}

TEST_CASE("audit: the actuator's result overrides; no move shows the receiver's limit", "[policy]") {
  Incident in;
  auto pl = sibling_plan(in);
  CHECK(audit_record(pl, in.trigger, false, kTs, "applied")["result"] == "applied");
  CHECK(audit_record(pl, in.trigger, false, kTs)["dry_run"] == false);

  auto global = incident();
  global.parent.limit_bytes = ow::kUnlimited;
  auto g = audit_record(plan(global, Params{}, {}), global.trigger, true, kTs);
  CHECK(g["source"] == "global");
  CHECK(g["trigger"] == "pressure");
  CHECK(g["adjusted_cgroups"].empty());
  CHECK(g["headroom"] == "max");
  CHECK(g["limits_after"]["/p/a"] == 216 * MiB);
  CHECK_FALSE(g.contains("victim_rss"));

  auto unlimited = incident();
  unlimited.receiver.limit_bytes = ow::kUnlimited;
  auto u = audit_record(plan(unlimited, Params{}, {}), unlimited.trigger, true, kTs);
  CHECK(u["result"] == "no_limit");
  CHECK(u["source"] == "none");
  CHECK(u["added_memory"] == 0);
  CHECK(u["limits_before"]["/p/a"] == "max");
  CHECK(u["limits_after"]["/p/a"] == "max");
}
