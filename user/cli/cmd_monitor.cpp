// oomwatch monitor --cgroup P: one line per interval with the usage, limit,
// percent, peak and OOM/max counters of one cgroup, read from its own files
// (v1 or v2). An unlimited cgroup shows "max", never the kernel's huge number.
#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "stress/args.hpp"
#include "stress/monitor_report.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

struct MonitorOpts {
  std::string cgroup;
  stress::MonitorArgs args;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

int run_monitor(const MonitorOpts& o) {
  auto plan = stress::parse_monitor_args(o.args);
  if (!plan) return fail(kExitUsage, plan.error());
  auto h = memory_hierarchy();
  if (!h)
    return fail(kExitEnv, h.error(),
                "monitor needs a memory cgroup controller: cgroup v2 with 'memory' enabled, or a v1 memory hierarchy");
  std::string rel;
  if (int rc = resolve_flag(*h, "--cgroup", o.cgroup, rel)) return rc;
  install_stop_handlers();

  auto t0 = Clock::now();
  for (uint64_t k = 1; !g_stop.load(); ++k) {
    auto u = h->read(rel);
    if (!u && k == 1)
      return fail(kExitEnv, "cannot read the memory files of cgroup " + rel + ": " + u.error().message(),
                  h->version() == cg::Version::V2 && rel == "/"
                      ? "the v2 root cgroup has no memory.current or memory.max; monitor a child cgroup"
                      : "");
    if (!u) return fail(kExitEnv, "cgroup " + rel + " can no longer be read (removed?): " + u.error().message());
    stress::MonitorSample s{rel, h->version(), std::chrono::duration<double>(Clock::now() - t0).count(),
                            std::chrono::system_clock::now(), *u};
    print_line(o.json ? json_line(stress::monitor_json(s)) : stress::monitor_text(s));
    auto next = t0 + k * plan->interval;
    if (plan->duration && next - t0 > *plan->duration) break;
    sleep_until(next);
  }
  return kExitOk;
}

}  // namespace

void add_monitor(CLI::App* sub, Action& action) {
  auto* o = on_run<MonitorOpts>(sub, action, run_monitor);
  add_cgroup_flag(sub, o->cgroup, "the cgroup")->required();
  sub->add_option("--duration", o->args.duration, "stop after this long, e.g. 30s")
      ->type_name("DUR")->default_str("until Ctrl-C");
  add_interval_flag(sub, o->args.interval, "one sample per interval", o->args.interval, stress::kMinInterval);
  sub->add_flag("--json", o->json,
                "JSON lines {\"type\":\"sample\",\"usage_bytes\",\"limit_bytes\",\"limit\",\"percent\","
                "\"peak_bytes\",\"events\":{...}}; unlimited: \"limit_bytes\":null, \"limit\":\"max\", "
                "\"percent\":null; counters v1 lacks are null");
}

}  // namespace ow::cli
