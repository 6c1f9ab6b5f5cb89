// oomwatch events: live OOM kills (and, as later hooks land, pressure stalls
// and oomwatch's own actions), one line each. Human lines start with the
// kill's time, RFC 3339 UTC with milliseconds (the JSON's "ts").
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "agent/oom_source.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "k8s/event_identity.hpp"
#include "util/log.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

struct EventsOpts {
  bool json = false;
  std::vector<std::string> cgroups;
  std::string log_dir = k8s::kDefaultLogDir;
};

std::string human(const bpf::OomKill& k, const k8s::EventIdentity& who) {
  const auto& r = k.raw;
  std::string limit = "global";
  if (r.limit_memcg_id != 0)
    limit = fmt::format("{}{} at {}/{}", k.limit_cgroup.empty() ? "?" : printable(k.limit_cgroup),
                        (r.flags & OW_OOM_LIMIT_MEMSW) ? " (memsw)" : "", format_size(r.limit_usage_bytes),
                        format_size(r.limit_max_bytes));
  return fmt::format("{} oom_kill pid={} comm={} cgroup={} anon={} file={} shmem={} score_adj={} by pid={} ({}) limit={}{}",
                     bpf::event_time(k.wall_ns), r.tgid, printable(k.comm), k.cgroup.empty() ? "?" : printable(k.cgroup), format_size(r.anon_rss_bytes),
                     format_size(r.file_rss_bytes), format_size(r.shmem_rss_bytes), r.oom_score_adj,
                     r.trigger_tgid, printable(k.trigger_comm), limit, k8s::identity_text(who));
}

}  // namespace

// `run` streams the same events through agent/daemon.cpp. log_dir: the
// kubelet's log tree, which names Kubernetes containers.
int stream_events(bool json, const std::vector<std::string>& cgroup_args, const std::string& log_dir) {
  if (int rc = require_root("watching OOM kills")) return rc;
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error());
  std::vector<std::string> roots;
  if (int rc = resolve_flags(*h, "--cgroup", cgroup_args, roots)) return rc;
  auto src = agent::OomSource::open(*h, [&](const bpf::OomKill& k) {
    if (!roots.empty()) {
      bool keep = false;
      for (const auto& r : roots) keep = keep || cg::is_under(k.cgroup, r);
      if (!keep) return;
    }
    auto who = k8s::identify_reading(k.cgroup, log_dir);
    if (json) {
      auto ev = bpf::to_json(k);
      k8s::add_identity(ev, who);
      print_line(json_line(ev));
    } else {
      print_line(human(k, who));
    }
  });
  if (!src) return fail(kExitEnv, src.error(), "run 'oomwatch check' to see what this kernel supports");
  install_stop_handlers();
  for (const auto& hk : (*src)->loader().hooks())
    spdlog::info("hooked {} via {}", hk.tracepoint, hk.mode);
  spdlog::info("watching OOM kills in {} ({}); Ctrl-C to stop", h->mount(), cg::version_name(h->version()));
  uint64_t drops_seen = 0;
  while (!g_stop.load()) {
    auto s = (*src)->poll(250);
    if (!s) return fail(kExitEnv, s.error());
    uint64_t d = (*src)->drops();
    if (d != drops_seen) {
      spdlog::warn("ring buffer full: {} OOM events lost so far", d);
      if (json) print_line(json_line(nlohmann::ordered_json{{"type", "drops"}, {"count", d}}));
      drops_seen = d;
    }
  }
  spdlog::info("stopped; {} events lost to a full ring buffer, {} malformed", drops_seen, (*src)->malformed());
  return kExitOk;
}

void add_events(CLI::App* sub, Action& action) {
  auto* o = on_run<EventsOpts>(sub, action, [](const EventsOpts& e) { return stream_events(e.json, e.cgroups, e.log_dir); });
  sub->add_flag("--json", o->json, "one JSON object per line");
  add_cgroups_flag(sub, o->cgroups);
  sub->add_option("--pods-log-dir", o->log_dir,
                  "directory holding the kubelet's pods/ and containers/ logs, to name Kubernetes containers")
      ->type_name("DIR")
      ->capture_default_str();
}

}  // namespace ow::cli
