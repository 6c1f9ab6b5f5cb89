// Arguments shared by the commands that read the history database (stats,
// report, recommend): --db, the --from/--to window and the --cgroup selectors.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stats/window.hpp"
#include "store/history.hpp"

namespace CLI {
class App;
class Option;
}

namespace ow::cli {

// --db FILE, the history database (read-only; default store::kDefaultHistoryPath).
CLI::Option* add_history_db_flag(CLI::App* sub, std::string& db);
// --from T and --to T, the window; from_default says where it starts without --from.
void add_window_flags(CLI::App* sub, std::string& from, std::string& to, const std::string& from_default);

// Parses --from and --to against the wall clock now into r; an empty text
// keeps r's field as it is. 0, or the exit code of the one-line error printed.
int parse_window_flags(const std::string& from, const std::string& to, stats::TimeRange& r);

// --cgroup arguments as the store matches them: an absolute cgroupfs path
// loses the mount prefix when the hierarchy is found; without one (a laptop
// reading a node's file) it is used as given.
std::vector<std::string> cgroup_selectors(const std::vector<std::string>& cgroups);

// Every --cgroup (args, as selectors sels) must select one of paths, the
// cgroups with samples in source: a typo must not print an empty answer.
// 0, or the exit code of the one-line error naming the first that does not.
int check_known(const std::vector<std::string>& args, const std::vector<std::string>& sels,
                const std::set<std::string>& paths, const std::string& source);

struct HistoryDb {
  std::optional<store::HistoryStore> store;
  std::string path;  // the file opened
};
// The database --db names (empty: the default), opened read-only, and every
// --cgroup checked against the cgroups it has series for. 0, or the exit code
// of the one-line error printed; hint follows a database that cannot be opened.
int open_history(const std::string& db, const std::vector<std::string>& args, const std::vector<std::string>& sels,
                 const std::string& hint, HistoryDb& out);

}  // namespace ow::cli
