#include "fleet/fleet_output.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "fleet/prom_api.hpp"
#include "recommend/quantity.hpp"
#include "stats/time.hpp"
#include "util/text.hpp"

namespace ow::fleet {
namespace {

using ojson = nlohmann::ordered_json;

ojson spread_json(const std::optional<Spread>& s) {
  if (!s) return nullptr;
  return {{"p95", s->p95}, {"max", s->max}, {"samples", s->samples}};
}

ojson dominant_json(const FleetReport& f) {
  if (!f.dominant) return nullptr;
  const auto& d = *f.dominant;
  return {{"pod", d.pod},
          {"max", recommend::mib_text(d.max_bytes)},
          {"max_bytes", d.max_bytes},
          {"next_pod", d.next_pod},
          {"next_max", recommend::mib_text(d.next_max_bytes)},
          {"next_max_bytes", d.next_max_bytes},
          {"ratio", d.ratio > 0 ? ojson(std::round(d.ratio * 100) / 100) : ojson(nullptr)},
          {"pooled_ws_max", recommend::mib_text(f.report.input.long_window.ws_max_bytes)}};
}

std::string per_mille_text(uint32_t pm) {  // 950 -> "0.95", 1300 -> "1.3"
  std::string s = fmt::format("{}.{:03}", pm / 1000, pm % 1000);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

ojson tuning_json(const FleetReport& f) {
  return {{"enabled", f.tuning_enabled},
          {"profile", profile_name(f.profile)},
          {"profile_from", f.profile_from},
          {"reason", f.tuning_enabled ? ojson(nullptr) : ojson(f.tuning_reason)},
          {"percentile", std::stod(per_mille_text(f.rules.percentile_pm))},
          {"request_margin", std::stod(per_mille_text(f.rules.request_p95_pm))},
          {"limit_margin", std::stod(per_mille_text(f.rules.limit_max_pm))},
          {"from", f.tuning_overridden ? "overrides file" : "default"}};
}

std::string dominant_text(const FleetReport& f) {
  const auto& d = *f.dominant;
  return fmt::format("pod {} max {} is {} the next pod's ({} {}); the pooled ws_max {} is this pod's", d.pod,
                     recommend::mib_text(d.max_bytes),
                     d.ratio > 0 ? fmt::format("{:.1f}x", d.ratio) : std::string("far above"), d.next_pod,
                     recommend::mib_text(d.next_max_bytes), recommend::mib_text(f.report.input.long_window.ws_max_bytes));
}

std::string rss_floor_text(const FleetReport& f) {
  const auto& rec = f.report.rec;
  std::vector<std::string> parts;
  if (rec.request_rss_floor)
    parts.push_back(fmt::format("request {} from rss_{} {}", recommend::quantity(rec.request_bytes),
                                recommend::percentile_name(f.rules.percentile_pm).substr(3),
                                recommend::mib_text(f.rss.ws_p95_bytes)));
  if (rec.limit_rss_floor)
    parts.push_back(fmt::format("limit {} from rss_max {}", recommend::quantity(rec.limit_bytes),
                                recommend::mib_text(f.rss.ws_max_bytes)));
  return "the RSS floor decided the " + (parts.size() == 2 ? parts[0] + " and " + parts[1] : parts.front()) +
         " (anonymous memory, not reclaimable, above what the working set gives)";
}

}  // namespace

ojson knative_json(const FleetReport& f) {
  if (!f.knative) return nullptr;
  const auto& a = *f.knative;
  return {{"clause", a.clause},
          {"current_target", a.current_target},
          {"target", a.target ? ojson(*a.target) : ojson(nullptr)},
          {"container_concurrency", a.container_concurrency ? ojson(*a.container_concurrency) : ojson(nullptr)},
          {"propose", a.propose},
          {"concurrency", spread_json(f.concurrency)},
          {"queue_depth", spread_json(f.queue_depth)},
          {"rationale", a.rationale}};
}

ojson fleet_document(const std::vector<FleetReport>& rs, const SourceInfo& src) {
  ojson arr = ojson::array();
  for (const auto& f : rs) {
    ojson j = recommend::report_object(f.report);
    j["workload"] = {{"namespace", f.key.ns}, {"name", f.key.workload}, {"kind", f.kind},
                     {"container", f.key.container}, {"pods", f.pods}, {"series", f.series},
                     {"owner_from", f.owner_from},
                     {"owner_via", f.owner_via.empty() ? ojson(nullptr) : ojson(f.owner_via)}};
    j["rss"] = f.rss.samples ? ojson{{"avg", recommend::mib_text(f.rss.ws_avg_bytes)},
                                     {"max", recommend::mib_text(f.rss.ws_max_bytes)},
                                     {"avg_bytes", f.rss.ws_avg_bytes},
                                     {"max_bytes", f.rss.ws_max_bytes}}
                             : ojson(nullptr);
    j["rss_floor"] = f.report.rec.request_rss_floor || f.report.rec.limit_rss_floor
                         ? ojson{{"request", f.report.rec.request_rss_floor},
                                 {"limit", f.report.rec.limit_rss_floor},
                                 {"rss_percentile", recommend::mib_text(f.rss.ws_p95_bytes)},
                                 {"rss_percentile_bytes", f.rss.ws_p95_bytes},
                                 {"rss_max", recommend::mib_text(f.rss.ws_max_bytes)},
                                 {"rss_max_bytes", f.rss.ws_max_bytes}}
                         : ojson(nullptr);
    j["dominant_pod"] = dominant_json(f);
    j["tuning"] = tuning_json(f);
    j["knative"] = knative_json(f);
    if (!f.tuning_enabled) {  // no recommendation is made for it
      j["recommended"] = nullptr;
      j["rationale"] = f.tuning_reason;
    }
    arr.push_back(std::move(j));
  }
  return {{"source", {{"prometheus", src.url},
                      {"prometheus_from", src.url_from},
                      {"end", stats::format_rfc3339(src.end_ms * 1'000'000)},
                      {"window", recommend::duration_text(src.window_ms * 1'000'000)},
                      {"short_window", recommend::duration_text(src.short_window_ms * 1'000'000)},
                      {"step", prom_duration(src.step_ms)},
                      {"range_queries", src.range_queries}}},
          {"containers", arr}};
}

std::string fleet_json(const std::vector<FleetReport>& rs, const SourceInfo& src) {
  return json_line(fleet_document(rs, src));
}

std::string fleet_yaml(const std::vector<FleetReport>& rs, const SourceInfo& src) {
  return recommend::to_yaml(fleet_document(rs, src));
}

std::string fleet_table(const std::vector<FleetReport>& rs, const SourceInfo& src) {
  std::vector<recommend::Report> reps;
  for (const auto& f : rs)
    if (f.tuning_enabled) reps.push_back(f.report);
  std::string out = reps.empty() ? "" : recommend::reports_table(reps);
  for (const auto& f : rs)
    if (!f.tuning_enabled) out += fmt::format("tuning off {}: {}; no recommendation\n", f.report.name, f.tuning_reason);
  for (const auto& f : rs) {
    if (f.tuning_enabled && f.tuning_overridden)
      out += fmt::format("tuning {}: percentile {}, request margin {}, limit margin {} (overrides file)\n", f.report.name,
                         per_mille_text(f.rules.percentile_pm), per_mille_text(f.rules.request_p95_pm),
                         per_mille_text(f.rules.limit_max_pm));
    if (f.tuning_enabled && (f.report.rec.request_rss_floor || f.report.rec.limit_rss_floor))
      out += fmt::format("rss floor {}: {}\n", f.report.name, rss_floor_text(f));
    if (f.dominant) out += fmt::format("pods {}: {}\n", f.report.name, dominant_text(f));
  }
  // One line per workload: its kind and how it was found.
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& f : rs)
    if (seen.insert({f.key.ns, f.key.workload}).second)
      out += fmt::format("workload {}/{}: {} from {}{}\n", f.key.ns, f.key.workload, f.kind, f.owner_from,
                         f.owner_via.empty() ? "" : " (" + f.owner_via + ")");
  for (const auto& f : rs)
    if (f.knative)
      out += fmt::format("knative {}/{}: {}{}\n", f.key.ns, f.key.workload, f.knative->rationale,
                         f.knative->propose ? "" : " (nothing proposed)");
  out += fmt::format("source: Prometheus {} (from {})\n", src.url, src.url_from);
  return out;
}

}  // namespace ow::fleet
