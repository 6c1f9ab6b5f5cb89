// oomwatch trace --cgroup P [--duration DUR] [--top N] [--interval DUR] [--json]
//                [--method auto|tracepoints|proc] [--config FILE]
// Which processes of a cgroup's subtree are charging memory, by kind, for a
// bounded time: on the memcg stat tracepoints (6.13+) with programs attached
// only for the run, else from /proc RSS sampling (docs/trace.md).
#include <CLI/CLI.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "cli/options.hpp"
#include "config/config.hpp"
#include "trace/session.hpp"
#include "util/log.hpp"
#include "util/names.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::cli {
namespace {

// --method's names, for parsing and for --help.
constexpr Named<trace::Want> kMethods[] = {
    {trace::Want::Auto, "auto"}, {trace::Want::Tracepoints, "tracepoints"}, {trace::Want::Proc, "proc"}};

struct TraceOpts {
  std::string cgroup, duration = "10s", interval, method = "auto", config;
  size_t top = 10;
  bool json = false;
};

// The measured cost, stated in --help and docs/trace.md (tests/bench/bench_trace.cpp).
constexpr const char* kCost =
    "Cost while attached (tracepoints): every charge on the node runs the program. A "
    "page-fault loop (mmap, touch, munmap; make bench, bench_trace) takes 1.09x to 1.15x its untraced time "
    "while another cgroup is traced and 1.12x to 1.23x while its own cgroup is traced (2-core VM, kernel 6.18). "
    "Nothing stays attached after the command ends, however it ends. See docs/trace.md.";

int run_trace(const TraceOpts& o) {
  config::Config cfg;
  if (!o.config.empty()) {
    auto c = config::load_config(o.config);
    if (!c) return fail(kExitUsage, c.error());
    cfg = *c;
  }
  auto d = parse_duration(o.duration);
  if (!d) return fail(kExitUsage, "--duration: " + d.error().message());
  // default timeline step: 1 s, or the whole duration when shorter
  auto iv = o.interval.empty() ? Result<std::chrono::nanoseconds>(std::min<std::chrono::nanoseconds>(
                                     std::chrono::seconds(1), d ? *d : std::chrono::seconds(1)))
                               : parse_duration(o.interval);
  if (!iv) return fail(kExitUsage, "--interval: " + iv.error().message());
  if (d->count() <= 0) return fail(kExitUsage, "--duration: must be above zero");
  if (iv->count() <= 0) return fail(kExitUsage, "--interval: must be above zero");
  auto max = std::chrono::nanoseconds(cfg.trace_max_duration_ns);
  if (*d > max)
    return fail(kExitUsage, "--duration " + o.duration + " is longer than trace_max_duration (" + format_duration(max) + ")",
                "a shorter --duration, or raise trace_max_duration in the config file");
  if (*iv > *d) return fail(kExitUsage, "--interval " + o.interval + " is longer than --duration " + o.duration);
  auto want = parse_name(kMethods, o.method);
  if (!want) return fail(kExitUsage, "--method: '" + o.method + "' is not " + name_list(kMethods));
  if (int rc = require_root("trace (loading BPF programs, reading every process's /proc)")) return rc;
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error());
  std::string rel;
  if (int rc = resolve_flag(*h, "--cgroup", o.cgroup, rel)) return rc;
  trace::SessionOptions so;
  so.cgroup = rel;
  so.want = *want;
  so.duration = *d;
  so.interval = *iv;
  so.stop = &g_stop;
  so.started = [&](trace::Method m) {
    spdlog::info("tracing {} by {} for {}; Ctrl-C prints the report now", printable(rel),
                 m == trace::Method::Tracepoints ? "tracepoints" : "/proc sampling", o.duration);
  };
  install_stop_handlers();
  auto r = trace::run_session(*h, so);
  if (!r) {
    std::string hint;
    if (r.error().err == EPERM)
      hint = "BPF tracing refused (lockdown=confidentiality, or no CAP_BPF/CAP_PERFMON); --method proc works without it";
    else if (want == trace::Want::Tracepoints)
      hint = "--method auto falls back to /proc sampling";
    return fail(kExitEnv, "trace " + printable(rel) + ": " + r.error().message(), hint);
  }
  if (o.json) {
    print_line(json_line(trace::to_json(*r, o.top)));
  } else {
    for (const auto& line : trace::to_text(*r, o.top)) print_line(line);
  }
  return kExitOk;
}

}  // namespace

void add_trace(CLI::App* sub, Action& action) {
  auto* o = on_run<TraceOpts>(sub, action, run_trace);
  add_cgroup_flag(sub, o->cgroup, "the cgroup", "; its whole subtree is traced")->required();
  sub->add_option("--duration", o->duration, "how long, e.g. 30s; at most trace_max_duration (5m unless configured)")
      ->type_name("DUR")
      ->capture_default_str();
  sub->add_option("--top", o->top, "print this many processes, largest net growth first")->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  sub->add_option("--interval", o->interval, "timeline step of --json")
      ->type_name("DUR")->default_str("1s, or --duration when shorter");
  sub->add_flag("--json", o->json, "one JSON object: processes with per-kind bytes, and a timeline per interval");
  one_of(sub->add_option("--method", o->method,
                         "auto: tracepoints when the kernel has them, else proc; tracepoints; proc: RSS from /proc")
             ->capture_default_str(),
         name_vector(kMethods));
  sub->add_option("--config", o->config, "TOML config file (for trace_max_duration)")->type_name("FILE");
  sub->footer(kCost);
}

}  // namespace ow::cli
