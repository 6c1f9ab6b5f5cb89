#include "stats/report.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "stats/csv.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

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

std::string stats_text(const StatsByCgroup& stats) {
  // Sizes in binary units, right-aligned; the path last, it alone is unbounded.
  auto row = [](const std::string& a, const std::string& b, const std::string& c, const std::string& d,
                const std::string& e, const std::string& f, const std::string& path) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%10s %10s %10s %10s %10s %8s  ", a.c_str(), b.c_str(), c.c_str(), d.c_str(),
                  e.c_str(), f.c_str());
    return std::string(buf) + path + "\n";
  };
  std::string out = row("MIN", "MAX", "MEDIAN", "P95", "AVG", "SAMPLES", "CGROUP");
  for (const auto& [path, w] : stats)
    out += row(format_size(w.min_bytes), format_size(w.max_bytes), format_size(w.median_bytes),
               format_size(w.p95_bytes), format_size(w.avg_bytes), std::to_string(w.samples), printable(path));
  return out;
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
