// oomwatch report --html FILE [--from T] [--to T] [--cgroup P]... [--top N]
//                 [--db FILE] [--audit-log FILE|none] [--max-points N]
// One self-contained HTML file (docs/views.md "report") from the history
// database and the agent's audit log: a chart per cgroup with OOM kills and
// actions as markers, window statistics and the newest recommendation.
// Read only (the database is opened read-only); the file is written
// atomically. Exit codes: 2 for bad flags, unknown cgroups, an empty window;
// 1 when the database or audit log cannot be read or the file not written.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include <sys/stat.h>

#include "advisor/gather.hpp"
#include "cgroup/hierarchy.hpp"
#include "cli/commands.hpp"
#include "util/log.hpp"
#include "cli/common.hpp"
#include "cli/history_args.hpp"
#include "cli/options.hpp"
#include "util/clock.hpp"
#include "stats/time.hpp"
#include "store/history.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"
#include "view/agent_inputs.hpp"
#include "view/report_assets.hpp"
#include "view/report_html.hpp"
#include "view/report_model.hpp"

namespace ow::cli {
namespace {

struct ReportOpts {
  // from/to empty: the last 24 h, narrowed to what the history covers.
  std::string html, from, to, db, audit_log = view::kDefaultAuditLog;
  std::vector<std::string> cgroups;
  long top = 20;
  long max_points = static_cast<long>(view::kDefaultMaxPoints);
};

int run_report(const ReportOpts& o) {
  if (o.html.empty()) return fail(kExitUsage, "--html FILE is required", "e.g. oomwatch report --html /tmp/report.html");
  if (o.top < 0) return fail(kExitUsage, "--top " + std::to_string(o.top) + ": must be 0 (all) or more");
  if (o.max_points < 2 || o.max_points > 100000)
    return fail(kExitUsage, "--max-points " + std::to_string(o.max_points) + ": must be between 2 and 100000");
  stats::TimeRange r;
  if (int rc = parse_window_flags(o.from.empty() ? "-24h" : o.from, o.to.empty() ? "now" : o.to, r)) return rc;
  std::vector<std::string> sels = cgroup_selectors(o.cgroups);

  HistoryDb db;
  if (int rc = open_history(o.db, o.cgroups, sels,
                            "the agent (oomwatch run) records history there; or pass --db FILE", db))
    return rc;
  auto& h = db.store;
  auto w = h->window_stats(r, sels);
  if (!w) return fail(kExitEnv, w.error());
  if (w->stats.empty())
    return fail(kExitUsage,
                "empty window: no samples between " + stats::format_rfc3339(r.from_ns) + " and " +
                    stats::format_rfc3339(r.to_ns) + (sels.empty() ? "" : " for the selected cgroups"),
                "widen --from/--to (RFC 3339, unix seconds, now, or relative like -24h)");

  view::ReportData d;
  if (auto fit = view::fit_window(w->stats, r, o.from.empty(), o.to.empty() && o.from.empty()); !fit.note.empty()) {
    r = fit.range;
    d.window_note = fit.note;
    spdlog::info("report window: {}", fit.note);
    w = h->window_stats(r, sels);
    if (!w) return fail(kExitEnv, w.error());
  }
  d.from_ns = r.from_ns;
  d.to_ns = r.to_ns;
  d.generated_ns = wall_ns();
  d.db_path = db.path;
  d.total_cgroups = w->stats.size();
  auto chosen = view::choose_cgroups(w->stats, static_cast<size_t>(o.top));
  int64_t slot = view::chart_slot_ns(r.from_ns, r.to_ns, static_cast<size_t>(o.max_points), 1'000'000);
  auto series = h->chart_series(r, chosen, slot);
  if (!series) return fail(kExitEnv, series.error());
  auto recs = h->last_recommendations(chosen);
  if (!recs) return fail(kExitEnv, recs.error());
  auto kills = h->kills(r, chosen);
  if (!kills) return fail(kExitEnv, kills.error());
  // What `recommend --from --to` gives for the same window, with its default rules.
  std::map<std::string, view::ReportRecommendation> computed;
  {
    std::optional<cg::Hierarchy> hier;
    if (auto hh = memory_hierarchy()) hier = std::move(*hh);
    advisor::RecommendQuery q;
    q.selectors = chosen;
    q.now_ns = r.to_ns;
    q.window_ns = std::max<int64_t>(r.to_ns - r.from_ns, 1);
    q.short_window_ns = std::min<int64_t>(q.window_ns, advisor::kDefaultShortWindowNs);
    advisor::RecommendSources src{&*h, hier ? &*hier : nullptr, nullptr, nullptr, &*recs};
    auto reps = advisor::gather_recommendations(q, src);
    if (!reps) return fail(kExitEnv, reps.error());
    for (const auto& rep : *reps)
      computed[rep.cgroup] = {rep.rec.request_bytes, rep.rec.limit_bytes, recommend::confidence_name(rep.rec.confidence),
                              rep.rec.rationale};
  }
  for (const auto& p : chosen) {
    view::ReportCgroup c;
    c.path = p;
    c.series = std::move((*series)[p]);
    if (auto it = w->stats.find(p); it != w->stats.end()) c.stats = it->second;
    if (auto it = computed.find(p); it != computed.end()) c.recommendation = it->second;
    if (auto it = recs->find(p); it != recs->end()) c.stored = it->second;
    for (const auto& k : *kills)
      if (k.path == p) c.kills.push_back(k);
    d.cgroups.push_back(std::move(c));
  }
  std::vector<view::Event> audit;
  if (o.audit_log == "none") {
    d.audit_note = "none";
  } else {
    auto a = view::read_audit_events(o.audit_log, r.from_ns, r.to_ns);
    if (!a) return fail(kExitEnv, a.error(), "pass --audit-log none to leave the agent's actions out");
    audit = std::move(*a);
    d.audit_note = o.audit_log + (::access(o.audit_log.c_str(), F_OK) == 0 ? "" : " (missing)");
    // The agent refuses such a file; one found anyway is shown, marked.
    struct stat st{};
    if (::stat(o.audit_log.c_str(), &st) == 0)
      if (auto why = trust_problem(st.st_uid, st.st_mode); !why.empty()) {
        d.audit_note += " (UNTRUSTED: " + why + "; its actions may be forged)";
        spdlog::warn("audit log {} is {}: the agent actions in the report may be forged", o.audit_log, why);
      }
  }
  view::attach_events(d, audit);
  std::string page = view::render_html(d, view::dygraphs_js(), view::dygraphs_css());
  if (auto st = write_file_atomic(o.html, page); !st) return fail(kExitEnv, st.error());
  std::fprintf(stderr, "report: %s, %zu of %zu cgroups, %s\n", o.html.c_str(), d.cgroups.size(), d.total_cgroups,
               format_size(page.size()).c_str());
  return kExitOk;
}

}  // namespace

void add_report(CLI::App* sub, Action& action) {
  auto* o = on_run<ReportOpts>(sub, action, run_report);
  sub->add_option("--html", o->html, "the HTML file to write (replaced atomically)")->type_name("FILE")->required();
  add_window_flags(sub, o->from, o->to, "-24h, narrowed to what the history covers");
  add_cgroups_flag(sub, o->cgroups);
  sub->add_option("--top", o->top, "chart the N cgroups with the highest peak usage (0: all)")
      ->type_name("N")->capture_default_str();
  add_history_db_flag(sub, o->db);
  sub->add_option("--audit-log", o->audit_log, "the agent's audit log, or none")
      ->type_name("FILE")->capture_default_str();
  sub->add_option("--max-points", o->max_points, "points per chart at most")->type_name("N")->capture_default_str();
}

}  // namespace ow::cli
