#include "stats/report.hpp"

#include <nlohmann/json.hpp>

#include "stats/csv.hpp"
#include "util/text.hpp"

namespace ow::stats {

std::string stats_json(const StatsByCgroup& stats) {
  // ordered_json: docs/cli.md lists min, max, median first; keep that order.
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [path, w] : stats) {
    j[path] = {{"min_consumption", w.min_bytes},      {"max_consumption", w.max_bytes},
               {"median_consumption", w.median_bytes}, {"p95_consumption", w.p95_bytes},
               {"avg_consumption", w.avg_bytes},       {"samples", w.samples}};
  }
  return json_line(j);
}

std::string stats_csv(const StatsByCgroup& stats) {
  std::string out =
      "cgroup,min_consumption,max_consumption,median_consumption,p95_consumption,avg_consumption,samples\n";
  for (const auto& [path, w] : stats) {
    out += csv_field(path);
    for (uint64_t v : {w.min_bytes, w.max_bytes, w.median_bytes, w.p95_bytes, w.avg_bytes, w.samples})
      out += "," + std::to_string(v);
    out += "\n";
  }
  return out;
}

}  // namespace ow::stats
