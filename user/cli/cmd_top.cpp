// oomwatch top [--cgroup P]... [--interval DUR] [--batch] [--json] [--iterations N]
//              [--top N] [--sort usage|percent|growth|name] [--filter S] [--tree]
//              [--audit-log FILE|none] [--hint-dir DIR|none] [--source auto|bpf|files] [--since-start]
//              [--pods-log-dir DIR]
// A live table of memory cgroups (docs/views.md "top"): full screen on a
// terminal (view/tui.cpp), or plain text / JSON frames with --batch / --json.
// Read only: takes its own snapshots (the BPF iterator, cgroupfs files as the
// fallback), reads the agent's audit log and hint files when present, and
// names Kubernetes pods and containers from the kubelet's log tree.
// Exit codes: 2 for bad flags and unknown cgroups, 1 for the environment (no
// memory hierarchy, no terminal without --batch, a snapshot fails).
#include <CLI/CLI.hpp>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "bpf/loader.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "cli/options.hpp"
#include "cli/sampling.hpp"
#include "gomemlimit/publish.hpp"
#include "k8s/name_cache.hpp"
#include "sampler/sampler.hpp"
#include "stress/args.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/log_hold.hpp"
#include "util/text.hpp"
#include "util/units.hpp"
#include "view/agent_inputs.hpp"
#include "view/frame.hpp"
#include "view/model.hpp"
#include "view/tui.hpp"

namespace ow::cli {
namespace {

constexpr std::chrono::milliseconds kMinTopInterval{100};
constexpr size_t kAuditTailBytes = 256 * 1024;  // the newest audit lines are enough for the pane
constexpr size_t kPaneEvents = 50;

struct TopOpts {
  std::vector<std::string> cgroups;
  std::string interval = "1s", sort = "usage", filter, audit_log = view::kDefaultAuditLog,
              hint_dir = gomemlimit::kDefaultHintDir, source = "auto", log_dir = k8s::kDefaultLogDir;
  bool batch = false, json = false, tree = false, since_start = false;
  long iterations = 0;
  long top = 0;
};

// The iterator, else cgroupfs files: top is a viewer, so the fallback is
// only logged at debug level.
Result<OpenedSampler> open_top_sampler(const cg::Hierarchy& h, const std::vector<std::string>& roots,
                                       const std::string& source) {
  auto o = open_sampler(h, roots, source, kDefaultStateDir);
  if (o && !o->fallback_why.empty()) spdlog::debug("top: sampling cgroupfs files ({})", o->fallback_why);
  return o;
}

int terminal_width() {
  struct winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 200;  // a pipe: long enough for every column and a path
}

int run_top(const TopOpts& o) {
  auto iv = stress::interval_flag("--interval", o.interval, kMinTopInterval);
  if (!iv) return fail(kExitUsage, iv.error());
  auto sort = view::parse_sort_key(o.sort);
  if (!sort) return fail(kExitUsage, "--sort " + printable(o.sort) + ": must be usage, percent, growth or name");
  if (o.iterations < 0) return fail(kExitUsage, "--iterations " + std::to_string(o.iterations) + ": must be 0 or more");
  if (o.top < 0) return fail(kExitUsage, "--top " + std::to_string(o.top) + ": must be 0 (all) or more");
  const bool batch = o.batch || o.json;
  if (!batch && (::isatty(STDOUT_FILENO) != 1 || ::isatty(STDIN_FILENO) != 1))
    return fail(kExitEnv, "top needs a terminal on stdin and stdout", "use --batch (text frames) or --json for scripts");

  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error(), "top needs a memory cgroup controller (cgroup v2 with 'memory', or v1)");
  std::vector<std::string> roots;
  if (int rc = resolve_flags(*h, "--cgroup", o.cgroups, roots)) return rc;
  install_stop_handlers();
  auto sampling = open_top_sampler(*h, roots, o.source);
  if (!sampling) return fail(kExitEnv, sampling.error());
  auto& smp = *sampling->sampler;

  view::TopModel model({o.since_start, h->version() == cg::Version::V2});
  const std::string audit = o.audit_log == "none" ? "" : o.audit_log;
  const std::string hints = o.hint_dir == "none" ? "" : o.hint_dir;
  bool audit_warned = false;
  // Names by pod uid and container id, the log tree read at most once a
  // refresh and only when the snapshot holds a Kubernetes cgroup not named yet.
  k8s::NameCache names(o.log_dir);
  auto take = [&]() -> Result<std::vector<view::Event>> {
    auto snap = smp.take();
    if (!snap) return app_error("snapshot failed: " + snap.error().message());
    model.update(*snap);
    std::vector<uint64_t> ids;
    ids.reserve(snap->samples.size());
    for (const auto& s : snap->samples) ids.push_back(s.cgroup_id);
    model.set_hints(view::read_hints(hints, ids));
    std::vector<std::string> paths;
    paths.reserve(snap->samples.size());
    for (const auto& s : snap->samples) paths.push_back(s.cgroup);
    names.learn(paths, mono_ns());
    std::map<std::string, k8s::EventIdentity> named;
    for (const auto& p : paths)
      if (auto who = names.lookup(p); who.kube || who.container) named.emplace(p, std::move(who));
    model.set_names(std::move(named));
    std::vector<view::Event> agent;
    if (!audit.empty()) {
      auto a = view::read_audit_events(audit, INT64_MIN, INT64_MAX, kAuditTailBytes);
      if (a) agent = std::move(*a);
      else if (!audit_warned) {
        spdlog::warn("top: {} (the pane shows the snapshot counters' OOM kills only)", a.error().message());
        audit_warned = true;
      }
    }
    return view::merge_events(model.events(), agent, kPaneEvents);
  };

  view::ViewOptions vo;
  vo.sort = *sort;
  vo.filter = o.filter;
  vo.tree = o.tree;
  vo.top = static_cast<size_t>(o.top);
  if (!batch) {
    view::TuiOptions to;
    to.view = vo;
    to.interval = std::chrono::duration_cast<std::chrono::milliseconds>(*iv);
    to.iterations = o.iterations;
    to.source = smp.source_name();
    Status st;
    {  // Log lines wait for the screen to close, the newest shown on it.
      LogHold held;
      to.log_line = [&held] { return held.last(); };
      st = view::run_tui(model, to, take, [] { return g_stop.load(); });
    }
    if (!st) return fail(kExitEnv, st.error());
    return kExitOk;
  }
  const int width = terminal_width();
  using Clock = std::chrono::steady_clock;
  for (long k = 0; o.iterations == 0 || k < o.iterations; ++k) {
    auto t0 = Clock::now();
    auto events = take();
    if (!events) return fail(kExitEnv, events.error());
    view::FrameInfo fi{model.last_ts_ns(), smp.source_name(), view::sort_key_name(vo.sort), vo.filter, vo.tree};
    auto page = model.rows(vo);
    if (o.json) print_line(json_line(view::json_frame(fi, page, *events)));
    else print_text(view::batch_frame(fi, page, *events, width) + "\n");
    if (g_stop.load() || (o.iterations && k + 1 >= o.iterations)) break;
    sleep_until(t0 + *iv);  // the rest of the interval
    if (g_stop.load()) break;
  }
  return kExitOk;
}

}  // namespace

void add_top(CLI::App* sub, Action& action) {
  auto* o = on_run<TopOpts>(sub, action, run_top);
  add_cgroups_flag(sub, o->cgroups);
  add_interval_flag(sub, o->interval, "one snapshot per interval", o->interval, kMinTopInterval);
  sub->add_flag("--batch", o->batch, "plain text frames on stdout instead of the screen (like top -b)");
  sub->add_flag("--json", o->json, "one JSON object per frame on stdout (implies --batch)");
  sub->add_option("--iterations", o->iterations, "stop after N frames (0: until q or Ctrl-C)")
      ->type_name("N")->capture_default_str();
  sub->add_option("--top", o->top, "show at most N rows (0: all that fit; all in --batch)")
      ->type_name("N")->capture_default_str();
  one_of(sub->add_option("--sort", o->sort, "rows by usage, percent (of the limit), growth or name")
             ->capture_default_str(),
         view::sort_key_names());
  sub->add_option("--filter", o->filter, "only cgroups whose path contains S (the / key on screen)")->type_name("S");
  sub->add_flag("--tree", o->tree, "rows under their parents (the t key on screen)");
  sub->add_option("--audit-log", o->audit_log, "the agent's audit log for the event pane, or none")->type_name("FILE")
      ->capture_default_str();
  sub->add_option("--hint-dir", o->hint_dir, "the agent's GOMEMLIMIT hint files, or none")
      ->type_name("DIR")->capture_default_str();
  add_source_flag(sub, o->source);
  sub->add_option("--pods-log-dir", o->log_dir, "directory holding the kubelet's pods/ and containers/ logs, for names")
      ->type_name("DIR")->capture_default_str();
  sub->add_flag("--since-start", o->since_start,
                "MAX and OOM counted since top started, instead of the kernel's counters (which include kills before top)");
}

}  // namespace ow::cli
