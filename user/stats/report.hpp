// `oomwatch stats` output (docs/cli.md "stats"): one JSON object keyed by
// cgroup path, integer bytes, keys in the documented order
//   {"/a":{"min_consumption":1,"max_consumption":3,"median_consumption":2,
//          "p95_consumption":3,"avg_consumption":2,"samples":3}}
// or CSV with the same names as columns after "cgroup".
#pragma once
#include <string>

#include "stats/window.hpp"

namespace ow::stats {

std::string stats_json(const StatsByCgroup& stats);  // one line, no newline
std::string stats_csv(const StatsByCgroup& stats);   // header and rows, each ending in '\n'

}  // namespace ow::stats
