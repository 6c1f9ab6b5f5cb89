#include "fleet/fleet_output.hpp"

#include <fmt/format.h>

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
    j["knative"] = knative_json(f);
    arr.push_back(std::move(j));
  }
  return {{"source", {{"prometheus", src.url},
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

std::string fleet_table(const std::vector<FleetReport>& rs) {
  std::vector<recommend::Report> reps;
  for (const auto& f : rs) reps.push_back(f.report);
  std::string out = recommend::reports_table(reps);
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
  return out;
}

}  // namespace ow::fleet
