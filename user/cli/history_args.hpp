// Arguments shared by the commands that read the history database (stats,
// report): the --from/--to window and the --cgroup selectors.
#pragma once
#include <string>
#include <vector>

#include "stats/window.hpp"

namespace ow::cli {

// Parses --from and --to against the wall clock now into r; an empty text
// keeps r's field as it is. 0, or the exit code of the one-line error printed.
int parse_window_flags(const std::string& from, const std::string& to, stats::TimeRange& r);

// --cgroup arguments as the store matches them: an absolute cgroupfs path
// loses the mount prefix when the hierarchy is found; without one (a laptop
// reading a node's file) it is used as given.
std::vector<std::string> cgroup_selectors(const std::vector<std::string>& cgroups);

}  // namespace ow::cli
