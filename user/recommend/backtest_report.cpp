#include "recommend/backtest_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "recommend/quantity.hpp"
#include "stats/time.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::recommend {
namespace {

using bjson = nlohmann::ordered_json;

std::string bt_limit_text(const std::optional<uint64_t>& b) {
  if (!b) return "-";
  if (*b == kUnlimited) return "none";
  return *b % kMi ? mib_text(*b) : quantity(*b);  // VPA's figures are whole bytes
}

bjson bt_score_json(const PolicyScore& s, bool with_limits) {
  bjson j;
  j["oom_episodes"] = s.oom_episodes;
  j["near_limit_minutes"] = std::round(s.near_minutes() * 10) / 10;
  j["waste_gib_hours"] = std::round(s.waste_gib_hours() * 1000) / 1000;
  j["changes"] = s.changes;
  if (with_limits) {
    auto lim = [](const std::optional<uint64_t>& b) { return b && *b != kUnlimited ? bjson(*b) : bjson(nullptr); };
    j["first_limit_bytes"] = lim(s.first_limit_bytes);
    j["last_limit_bytes"] = lim(s.last_limit_bytes);
  }
  return j;
}

struct Totals {
  PolicyScore rules, vpa, fixed;
};

Totals bt_totals(const std::vector<BacktestReport>& rs) {
  Totals t;
  for (const auto& r : rs) {
    t.rules += r.result.rules;
    t.vpa += r.result.vpa;
    t.fixed += r.result.fixed;
  }
  return t;
}

std::string bt_rows(const PolicyScore& rules, const PolicyScore& vpa, const PolicyScore& fixed, bool with_limits) {
  std::string out = fmt::format("  {:<7} {:>5} {:>10} {:>12} {:>8}{}\n", "POLICY", "OOMS", "NEAR_MIN", "WASTE_GIB_H",
                                "CHANGES", with_limits ? fmt::format(" {:>10} {:>10}", "LIMIT_FROM", "LIMIT_TO") : "");
  for (auto [name, s] : {std::pair{"rules", &rules}, std::pair{"vpa", &vpa}, std::pair{"static", &fixed}}) {
    out += fmt::format("  {:<7} {:>5} {:>10.1f} {:>12.3f} {:>8}", name, s->oom_episodes, s->near_minutes(),
                       s->waste_gib_hours(), s->changes);
    if (with_limits) out += fmt::format(" {:>10} {:>10}", bt_limit_text(s->first_limit_bytes), bt_limit_text(s->last_limit_bytes));
    out += "\n";
  }
  return out;
}

}  // namespace

std::string backtests_json(const std::vector<BacktestReport>& rs) {
  bjson arr = bjson::array();
  for (const auto& r : rs) {
    const auto& b = r.result;
    arr.push_back({{"name", printable(r.name)},
                   {"source", printable(r.source)},
                   {"from", stats::format_rfc3339(b.from_ns)},
                   {"to", stats::format_rfc3339(b.to_ns)},
                   {"step", duration_text(r.step_ns)},
                   {"steps", b.steps.size()},
                   {"samples", b.samples},
                   {"recorded_oom_kills", b.recorded_kills},
                   {"rules", bt_score_json(b.rules, true)},
                   {"vpa", bt_score_json(b.vpa, true)},
                   {"static", bt_score_json(b.fixed, true)}});
  }
  Totals t = bt_totals(rs);
  bjson total = {{"workloads", rs.size()},
                 {"rules", bt_score_json(t.rules, false)},
                 {"vpa", bt_score_json(t.vpa, false)},
                 {"static", bt_score_json(t.fixed, false)}};
  return json_line(bjson{{"backtest", arr}, {"total", total}});
}

std::string backtests_table(const std::vector<BacktestReport>& rs) {
  std::string out;
  for (const auto& r : rs) {
    const auto& b = r.result;
    out += fmt::format("{} ({}): {} step(s) of {} from {} to {}, {} samples, {} recorded OOM kill(s)\n",
                       printable(r.name), printable(r.source), b.steps.size(), duration_text(r.step_ns),
                       stats::format_rfc3339(b.from_ns), stats::format_rfc3339(b.to_ns), b.samples, b.recorded_kills);
    out += bt_rows(b.rules, b.vpa, b.fixed, true);
    out += "\n";
  }
  Totals t = bt_totals(rs);
  out += fmt::format("total ({} workload(s)):\n", rs.size());
  out += bt_rows(t.rules, t.vpa, t.fixed, false);
  return out;
}

}  // namespace ow::recommend
