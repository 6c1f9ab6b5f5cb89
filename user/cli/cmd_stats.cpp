// oomwatch stats [--input FILE | --db FILE] [--from T] [--to T] [--cgroup P]...
//                [--json | --format json|csv]
// Per-cgroup window statistics (docs/cli.md "stats") from a sample file written by
// `collect` or from the daemon's history database. Exit codes: 2 for bad flags,
// unknown cgroups, an empty window or to < from; 1 when the file or database
// cannot be read (missing, unreadable, malformed, corrupt).
// Output: a table for people by default; --json (or --format json) the one
// JSON object, --format csv the CSV (stats/report.hpp).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <set>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "cli/history_args.hpp"
#include "cli/options.hpp"
#include "util/clock.hpp"
#include "stats/report.hpp"
#include "stats/select.hpp"
#include "stats/time.hpp"
#include "stats/window.hpp"
#include "store/history.hpp"
#include "store/samplefile.hpp"

namespace ow::cli {
namespace {

struct StatsOpts {
  std::string input, db, from, to, format = "text";
  std::vector<std::string> cgroups;
  bool json = false;
};

std::string when(int64_t ts) { return ts == INT64_MIN ? "the beginning" : stats::format_rfc3339(ts); }

int empty_window(const stats::TimeRange& r, const std::vector<std::string>& args) {
  std::string m = "empty window: no samples between " + when(r.from_ns) + " and " + when(r.to_ns);
  if (!args.empty()) m += " for the selected cgroups";
  return fail(kExitUsage, m, "widen --from/--to; times are RFC 3339, unix seconds, or relative like -1h");
}

int run_stats(const StatsOpts& o) {
  if (o.json && o.format == "csv") return fail(kExitUsage, "--json and --format csv: pick one");
  stats::TimeRange r{INT64_MIN, wall_ns()};
  if (int rc = parse_window_flags(o.from, o.to, r)) return rc;
  std::vector<std::string> sels = cgroup_selectors(o.cgroups);

  stats::StatsByCgroup result;
  if (!o.input.empty()) {
    // Only the selected cgroups' samples are kept as the file is read; every
    // path is noted, for naming a --cgroup that is not in it.
    std::set<std::string> paths;
    auto chosen = store::read_sample_file(o.input, [&](const sampler::Sample& s) {
      paths.insert(s.cgroup);
      return stats::selected(sels, s.cgroup);
    });
    // A file that is no sample file (a FIFO) or holds a line no record is: exit 2.
    if (!chosen) return fail(chosen.error());
    if (int rc = check_known(o.cgroups, sels, paths, o.input)) return rc;
    auto w = stats::window_stats(*chosen, r);
    if (!w) return empty_window(r, o.cgroups);
    result = std::move(*w);
  } else {
    HistoryDb db;
    if (int rc = open_history(o.db, o.cgroups, sels,
                              "the daemon (oomwatch run) records history there; or pass --input FILE from oomwatch collect",
                              db))
      return rc;
    auto w = db.store->window_stats(r, sels);
    if (!w) return fail(kExitEnv, w.error());
    if (w->stats.empty()) return empty_window(r, o.cgroups);
    result = std::move(w->stats);
  }
  if (o.format == "csv") print_text(stats::stats_csv(result));
  else if (o.json || o.format == "json") print_line(stats::stats_json(result));
  else print_text(stats::stats_text(result));
  return kExitOk;
}

}  // namespace

void add_stats(CLI::App* sub, Action& action) {
  auto* o = on_run<StatsOpts>(sub, action, run_stats);
  auto* in = sub->add_option("--input", o->input, "sample file from oomwatch collect (.jsonl or .csv)")
      ->type_name("FILE");
  in->excludes(add_history_db_flag(sub, o->db));
  add_window_flags(sub, o->from, o->to, "all data");
  sub->add_flag("--json", o->json, "the same as --format json");
  add_cgroups_flag(sub, o->cgroups);
  // The formats run_stats prints.
  one_of(sub->add_option("--format", o->format, "json (one object keyed by cgroup) or csv")->capture_default_str(),
         {"json", "csv"});
}

}  // namespace ow::cli
