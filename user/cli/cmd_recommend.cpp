// oomwatch recommend [--cgroup P]... [--window DUR] [--short-window DUR] [--db FILE]
//                    [--format table|yaml|json] [--pods FILE] [--pods-log-dir DIR]
//                    [--request-min SIZE] [--request-max SIZE] [--limit-min SIZE] [--limit-max SIZE]
//                    [--replay [--from T] [--to T]]
//                    [--backtest [--backtest-trace FILE]... [--backtest-step DUR] [--from T] [--to T]
//                     [--current-request SIZE] [--current-limit SIZE]]  (recommend_backtest.hpp)
//                    [--prometheus URL [--selector M] [--step DUR] [--end T] ... [--format patch]]  (recommend_fleet.hpp)
// Memory request/limit recommendations per container (or cgroup) from the
// history database's working set (rules: recommend/rules.hpp, docs/recommend.md).
// Exit codes: 2 for bad flags, unknown cgroups, no data in the window; 1 when
// the database, the pods file or the kubelet log directory cannot be read.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "advisor/gather.hpp"
#include "advisor/replay_gather.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "cli/history_args.hpp"
#include "cli/options.hpp"
#include "cli/recommend_backtest.hpp"
#include "cli/recommend_fleet.hpp"
#include "recommend/quantity.hpp"
#include "stats/time.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::cli {
namespace {

// What a backtest reads from the database without --from: the buckets' 7 days.
constexpr int64_t kBacktestSpanNs = 7LL * 24 * 3600 * 1'000'000'000;

struct RecommendOpts {
  std::string db, format = "table", window = "24h", short_window, pods, log_dir = k8s::kDefaultLogDir;
  std::string request_min, request_max, limit_min, limit_max, from, to;
  bool replay = false;
  std::vector<std::string> cgroups;
  FleetOpts fleet;
  BacktestOpts bt;
};

int run_recommend(const RecommendOpts& o) {
  advisor::RecommendQuery q;
  q.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count();
  for (auto [flag, text, out] : {std::tuple{"--window", &o.window, &q.window_ns},
                                 std::tuple{"--short-window", &o.short_window, &q.short_window_ns}}) {
    if (text->empty()) continue;
    auto d = parse_duration(*text);
    if (!d) return fail(kExitUsage, std::string(flag) + ": " + d.error().message());
    if (d->count() <= 0) return fail(kExitUsage, std::string(flag) + ": duration must be positive, got '" + *text + "'");
    *out = d->count();
  }
  if (o.short_window.empty()) q.short_window_ns = advisor::kDefaultShortWindowNs;  // clamped to the window below
  // --replay --from/--to: the window is [from, to] (defaults: to = now, from = to - --window).
  int64_t now = q.now_ns;
  // On a node --end ends the windows as it does on the fleet path; --to is
  // the same for a replay.
  if (!o.to.empty() && !o.fleet.end.empty()) return fail(kExitUsage, "--to and --end say the same: give one");
  if (const std::string& end = o.to.empty() ? o.fleet.end : o.to; !end.empty() && o.fleet.prometheus.empty()) {
    auto t = stats::parse_time_arg(end, now);
    if (!t) return fail(kExitUsage, std::string(o.to.empty() ? "--end" : "--to") + ": " + t.error().message());
    q.now_ns = *t;
  }
  if ((!o.from.empty() || !o.to.empty()) && !o.replay && !o.bt.on)
    return fail(kExitUsage, std::string(o.from.empty() ? "--to" : "--from") + " needs --replay or --backtest");
  int64_t span_ns = kBacktestSpanNs;
  if (!o.from.empty()) {
    auto f = stats::parse_time_arg(o.from, now);
    if (!f) return fail(kExitUsage, "--from: " + f.error().message());
    if (*f >= q.now_ns) return fail(kExitUsage, "--from " + o.from + " is not before --to" + (o.to.empty() ? " (now)" : " " + o.to));
    // A backtest reads [--from, --to]; --window stays the rules' window.
    (o.bt.on ? span_ns : q.window_ns) = q.now_ns - *f;
  }
  if (o.short_window.empty()) q.short_window_ns = std::min(q.short_window_ns, q.window_ns);
  if (q.short_window_ns > q.window_ns && !o.replay)
    return fail(kExitUsage, "--short-window " + o.short_window + " is longer than --window " + o.window);
  for (auto [flag, text, out] : {std::tuple{"--request-min", &o.request_min, &q.rules.request_min_bytes},
                                 std::tuple{"--request-max", &o.request_max, &q.rules.request_max_bytes},
                                 std::tuple{"--limit-min", &o.limit_min, &q.rules.limit_min_bytes},
                                 std::tuple{"--limit-max", &o.limit_max, &q.rules.limit_max_bytes}}) {
    if (text->empty()) continue;
    auto s = parse_size(*text);
    if (!s) return fail(kExitUsage, std::string(flag) + ": " + s.error().message());
    *out = *s;
  }
  if (auto bad = recommend::check_rules(q.rules); !bad.empty()) return fail(kExitUsage, "clamps: " + bad);
  recommend::BacktestOptions bt;
  std::optional<uint64_t> bt_request, bt_limit;
  if (o.bt.on) {
    if (o.replay) return fail(kExitUsage, "--replay and --backtest are two reports: give one");
    if (!o.fleet.prometheus.empty())
      return fail(kExitUsage, "--backtest reads the node's history database or --backtest-trace files, not --prometheus");
    bt.window_ns = q.window_ns;
    bt.short_window_ns = q.short_window_ns;
    bt.rules = q.rules;
    if (int rc = parse_backtest_opts(o.bt, bt, bt_request, bt_limit)) return rc;
    if (!o.bt.traces.empty()) {
      if (!o.cgroups.empty() || !o.db.empty() || !o.from.empty() || !o.to.empty() || !o.pods.empty())
        return fail(kExitUsage, "--backtest-trace reads its files: --db, --cgroup, --from, --to and --pods are for the database");
      std::vector<advisor::BacktestSeries> series;
      if (int rc = read_backtest_traces(o.bt, series)) return rc;
      return run_backtests(std::move(series), bt, bt_request, bt_limit, o.format);
    }
  }
  // The seed's OPRC_CRM_PROM_URL is the default --prometheus: with no flag
  // asking for the node (--db, --cgroup, --pods, --replay, --backtest) the fleet path
  // runs against it; an explicit --prometheus wins.
  FleetOpts fleet = o.fleet;
  if (const char* env = std::getenv(kPromUrlEnv);
      fleet.prometheus.empty() && env && *env && o.db.empty() && o.cgroups.empty() && o.pods.empty() && !o.replay &&
      !o.bt.on) {
    fleet.prometheus = env;
    fleet.prometheus_from = kPromUrlEnv;
  }
  if (!fleet.prometheus.empty()) {
    if (o.replay || !o.cgroups.empty() || !o.db.empty() || !o.pods.empty())
      return fail(kExitUsage, "--prometheus reads the fleet from Prometheus: --replay, --cgroup, --db and --pods are node-only");
    return run_recommend_fleet(fleet, q.window_ns, q.short_window_ns, q.rules, o.format);
  }
  if (o.format == "patch") return fail(kExitUsage, "--format patch needs --prometheus (patches are per workload)");
  if (auto f = fleet_only_given(o.fleet); !f.empty())
    return fail(kExitUsage, f + " applies to Prometheus only: add --prometheus URL, or leave it out on a node");

  std::optional<cg::Hierarchy> hier;
  if (auto h = memory_hierarchy()) hier = std::move(*h);
  q.selectors = cgroup_selectors(o.cgroups);

  std::optional<k8s::PodResources> pods;
  if (!o.pods.empty()) {
    auto text = read_input_file(o.pods, kMaxListBytes, "--pods");
    if (!text) return fail(text.error(), "pass the output of kubectl get pods -o json");
    auto p = k8s::parse_pods_json(*text);
    if (!p) return fail(kExitUsage, p.error().message() + ": " + o.pods);
    pods = std::move(*p);
  }
  auto names = k8s::read_kubelet_logs(o.log_dir);
  if (!names) return fail(kExitEnv, names.error(), "--pods-log-dir names the directory holding pods/ and containers/");

  HistoryDb db;
  if (int rc = open_history(o.db, o.cgroups, q.selectors,
                            "the daemon (oomwatch run) records history there; pass --db FILE", db))
    return rc;
  auto& h = db.store;
  const std::string& path = db.path;

  auto last = h->last_recommendations(q.selectors);
  if (!last) return fail(kExitEnv, last.error());
  advisor::RecommendSources src{&*h, hier ? &*hier : nullptr, &*names, pods ? &*pods : nullptr, &*last};
  if (o.bt.on) {
    advisor::RecommendQuery read = q;
    read.window_ns = span_ns;
    auto series = advisor::gather_backtest_series(read, src, path);
    if (!series) return fail(kExitEnv, series.error());
    if (series->empty())
      return fail(kExitUsage, "nothing to backtest: no working-set samples between " + stats::format_rfc3339(q.now_ns - span_ns) +
                                  " and " + stats::format_rfc3339(q.now_ns) + " in " + path);
    return run_backtests(std::move(*series), bt, bt_request, bt_limit, o.format);
  }
  if (o.replay) {
    auto rs = advisor::gather_replays(q, src);
    if (!rs) return fail(kExitEnv, rs.error());
    if (rs->empty())
      return fail(kExitUsage, "nothing to replay: no working-set samples between " + stats::format_rfc3339(q.now_ns - q.window_ns) +
                                  " and " + stats::format_rfc3339(q.now_ns) + " in " + path);
    print_text(o.format == "json"   ? recommend::replays_json(*rs) + "\n"
               : o.format == "yaml" ? recommend::replays_yaml(*rs)
                                    : recommend::replays_table(*rs));
    return kExitOk;
  }
  // The live anonymous memory is a floor only for a window that ends now.
  q.rss_floor_now = o.fleet.end.empty();
  auto reports = advisor::gather_recommendations(q, src);
  if (!reports) return fail(kExitEnv, reports.error());
  if (reports->empty())
    return fail(kExitUsage, "no working-set samples in the last " + o.window + (o.cgroups.empty() ? "" : " for the selected cgroups") + " in " + path,
                "the agent (oomwatch run) records them; widen --window");
  print_text(o.format == "json"   ? recommend::reports_json(*reports) + "\n"
             : o.format == "yaml" ? recommend::reports_yaml(*reports)
                                  : recommend::reports_table(*reports));
  return kExitOk;
}

}  // namespace

void add_recommend(CLI::App* sub, Action& action) {
  auto* o = on_run<RecommendOpts>(sub, action, run_recommend);
  add_cgroups_flag(sub, o->cgroups);
  sub->add_option("--window", o->window, "long window, for stability")->type_name("DUR")->capture_default_str();
  sub->add_option("--short-window", o->short_window, "short window, for responsiveness, at most --window")
      ->type_name("DUR")
      ->default_str(recommend::duration_text(advisor::kDefaultShortWindowNs) + ", or --window when shorter");
  add_history_db_flag(sub, o->db);
  // The formats run_recommend prints (patch only with --prometheus).
  one_of(sub->add_option("--format", o->format, "table, yaml, json, or patch (with --prometheus)")
             ->capture_default_str(),
         {"table", "yaml", "json", "patch"});
  sub->add_option("--pods", o->pods, "kubectl get pods -o json output: current requests by pod uid and container name")
      ->type_name("FILE");
  sub->add_option("--pods-log-dir", o->log_dir, "directory holding the kubelet's pods/ and containers/ logs, for names")
      ->type_name("DIR")
      ->capture_default_str();
  const recommend::Rules rules;  // the clamps' defaults
  sub->add_option("--request-min", o->request_min, "smallest request recommended")->type_name("SIZE")
      ->default_str(recommend::quantity(rules.request_min_bytes));
  sub->add_option("--request-max", o->request_max, "largest request recommended")->type_name("SIZE")
      ->default_str(recommend::quantity(rules.request_max_bytes));
  sub->add_option("--limit-min", o->limit_min, "smallest limit recommended")->type_name("SIZE")
      ->default_str(recommend::quantity(rules.limit_min_bytes));
  sub->add_option("--limit-max", o->limit_max, "largest limit recommended")->type_name("SIZE")
      ->default_str(recommend::quantity(rules.limit_max_bytes));
  sub->add_flag("--replay", o->replay, "replay the seed's rule, VPA's rule and the current limit on the "
                                                  "recorded working set, side by side");
  sub->add_option("--from", o->from, "replay or backtest from: RFC 3339, unix seconds, or relative (-6h)")->type_name("T")
      ->default_str("--to - --window (--backtest: --to - 7d)");
  sub->add_option("--to", o->to, "replay or backtest to (inclusive), same forms")->type_name("T")->default_str("now");
  add_backtest_options(sub, o->bt);
  add_fleet_options(sub, o->fleet);
}

}  // namespace ow::cli
