// The fleet recommendations as JSON/YAML (the node path's per-container
// keys, plus workload, rss, rss_floor, dominant_pod, tuning and knative) and
// as a table. Pure: text out.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/fleet_report.hpp"

namespace ow::fleet {

struct SourceInfo {
  std::string url;
  int64_t end_ms = 0, window_ms = 0, short_window_ms = 0, step_ms = 0;
  int range_queries = 0;
  std::string url_from = "--prometheus";  // or "OPRC_CRM_PROM_URL" (the default --prometheus)
};

nlohmann::ordered_json fleet_document(const std::vector<FleetReport>& rs, const SourceInfo& src);
std::string fleet_json(const std::vector<FleetReport>& rs, const SourceInfo& src);  // one line
std::string fleet_yaml(const std::vector<FleetReport>& rs, const SourceInfo& src);
// Ends with a "source:" line naming Prometheus and where its URL came from.
std::string fleet_table(const std::vector<FleetReport>& rs, const SourceInfo& src);

nlohmann::ordered_json knative_json(const FleetReport& f);  // null when no advice

}  // namespace ow::fleet
