// `oomwatch stats` output (docs/cli.md "stats"): one JSON object keyed by
// cgroup path, integer bytes, keys in the documented order
//   {"/a":{"min_consumption":1,"max_consumption":3,"median_consumption":2,
//          "p95_consumption":3,"avg_consumption":2,"samples":3}}
// or CSV with the same names as columns after "cgroup", or, by default, a
// table for people:
//          MIN        MAX     MEDIAN        P95        AVG  SAMPLES  CGROUP
//           1B         3B         2B         3B         2B        3  /a
#pragma once
#include <string>

#include "stats/window.hpp"

namespace ow::stats {

std::string stats_json(const StatsByCgroup& stats);  // one line, no newline
std::string stats_csv(const StatsByCgroup& stats);   // header and rows, each ending in '\n'
std::string stats_text(const StatsByCgroup& stats);  // the same, as a table

}  // namespace ow::stats
