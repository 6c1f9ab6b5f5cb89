// The fleet recommendations as JSON/YAML (the node path's per-container
// keys, plus workload, rss and knative) and as a table. Pure: text out.
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
};

nlohmann::ordered_json fleet_document(const std::vector<FleetReport>& rs, const SourceInfo& src);
std::string fleet_json(const std::vector<FleetReport>& rs, const SourceInfo& src);  // one line
std::string fleet_yaml(const std::vector<FleetReport>& rs, const SourceInfo& src);
std::string fleet_table(const std::vector<FleetReport>& rs);

nlohmann::ordered_json knative_json(const FleetReport& f);  // null when no advice

}  // namespace ow::fleet
