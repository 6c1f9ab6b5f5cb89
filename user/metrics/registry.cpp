#include "metrics/registry.hpp"

#include <algorithm>
#include <set>

namespace ow::metrics {
namespace {

Labels cgroup_labels(const CgroupFigures& c) {
  Labels l;
  if (!c.k8s_namespace.empty()) l.emplace_back("namespace", c.k8s_namespace);
  if (!c.pod.empty()) l.emplace_back("pod", c.pod);
  if (!c.container.empty()) l.emplace_back("container", c.container);
  l.emplace_back("cgroup", c.cgroup);
  return l;
}

std::string label_key(const CgroupFigures& c) {
  std::string k;
  for (const auto& [n, v] : cgroup_labels(c)) k += n + "=" + escape_label_value(v) + ",";
  return k;
}

Family family(std::string name, std::string help, Type t) {
  Family f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = t;
  return f;
}

Family scalar(std::string name, std::string help, Type t, double v) {
  Family f = family(std::move(name), std::move(help), t);
  f.samples.push_back({{}, v});
  return f;
}

}  // namespace

std::vector<double> AgentFigures::rescue_latency_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

CgroupFigures from_sample(const sampler::Sample& s) {
  return {.cgroup = s.cgroup,
          .usage_bytes = s.usage_bytes,
          .working_set_bytes = s.working_set_bytes,
          .limit_bytes = s.limit_bytes,
          .peak_bytes = s.peak_bytes,
          .high_bytes = s.high_bytes,
          .oom_kills = s.ev_oom_kill,
          .max_events = s.failcnt};
}

size_t select_cgroups(std::vector<CgroupFigures>& cgs, size_t max_cgroups) {
  size_t before = cgs.size();
  std::stable_sort(cgs.begin(), cgs.end(), [](const CgroupFigures& a, const CgroupFigures& b) {
    if (a.managed != b.managed) return a.managed;
    if (a.usage_bytes != b.usage_bytes) return a.usage_bytes > b.usage_bytes;
    return a.cgroup < b.cgroup;
  });
  std::set<std::string> seen;
  std::vector<CgroupFigures> kept;
  kept.reserve(std::min(before, max_cgroups));
  for (auto& c : cgs) {
    if (kept.size() >= max_cgroups) break;
    if (!seen.insert(label_key(c)).second) continue;
    kept.push_back(std::move(c));
  }
  std::sort(kept.begin(), kept.end(), [](const CgroupFigures& a, const CgroupFigures& b) { return a.cgroup < b.cgroup; });
  cgs = std::move(kept);
  return before - cgs.size();
}

std::vector<Family> families(const std::vector<CgroupFigures>& cgs, size_t dropped, const AgentFigures& a,
                             const ProcessFigures& p, const BuildInfo& b) {
  std::vector<Family> out;
  auto per_cgroup = [&](const char* name, const char* help, Type t, auto value) {
    Family f = family(name, help, t);
    for (const auto& c : cgs)
      if (std::optional<uint64_t> v = value(c)) f.samples.push_back({cgroup_labels(c), static_cast<double>(*v)});
    out.push_back(std::move(f));
  };
  using O = std::optional<uint64_t>;
  per_cgroup("oomwatch_cgroup_memory_usage_bytes", "Memory charged to the cgroup (usage_in_bytes / memory.current).",
             Type::gauge, [](const CgroupFigures& c) -> O { return c.usage_bytes; });
  per_cgroup("oomwatch_cgroup_memory_working_set_bytes", "Usage minus inactive page cache, as cAdvisor counts it.",
             Type::gauge, [](const CgroupFigures& c) -> O { return c.working_set_bytes; });
  per_cgroup("oomwatch_cgroup_memory_limit_bytes", "Memory limit (memory.max / limit_in_bytes); absent when unlimited.",
             Type::gauge, [](const CgroupFigures& c) -> O {
               return c.limit_bytes == UINT64_MAX ? O{} : O{c.limit_bytes};
             });
  per_cgroup("oomwatch_cgroup_memory_peak_bytes", "Highest usage the kernel recorded (memory.peak / max_usage_in_bytes).",
             Type::gauge, [](const CgroupFigures& c) -> O { return c.peak_bytes ? O{c.peak_bytes} : O{}; });
  per_cgroup("oomwatch_cgroup_memory_high_bytes", "memory.high throttling threshold (cgroup v2); absent when max.",
             Type::gauge, [](const CgroupFigures& c) -> O {
               return c.high_bytes == UINT64_MAX ? O{} : O{c.high_bytes};
             });
  per_cgroup("oomwatch_cgroup_oom_kills_total", "Tasks the kernel OOM killer killed in the cgroup.", Type::counter,
             [](const CgroupFigures& c) -> O { return c.oom_kills; });
  per_cgroup("oomwatch_cgroup_memory_max_events_total",
             "Times usage hit the limit (v1 failcnt, v2 memory.events max).", Type::counter,
             [](const CgroupFigures& c) -> O { return c.max_events; });
  per_cgroup("oomwatch_cgroup_gomemlimit_hint_bytes", "GOMEMLIMIT hint published for the cgroup (run --hints).",
             Type::gauge, [](const CgroupFigures& c) { return c.gomemlimit_bytes; });
  per_cgroup("oomwatch_cgroup_ebpf_memory_bytes",
             "eBPF map memory charged to the cgroup or below it, as the GOMEMLIMIT hint counts it.", Type::gauge,
             [](const CgroupFigures& c) { return c.ebpf_bytes; });
  per_cgroup("oomwatch_cgroup_recommended_limit_bytes", "Memory limit the recommender suggests for the cgroup.",
             Type::gauge, [](const CgroupFigures& c) { return c.recommended_limit_bytes; });

  Family act = family("oomwatch_actions_total", "Audited rescue decisions by trigger, donor source and result.",
                      Type::counter);
  for (const auto& [k, n] : a.actions)
    act.samples.push_back({{{"trigger", k.trigger}, {"source", k.source}, {"result", k.result}}, static_cast<double>(n)});
  out.push_back(std::move(act));
  out.push_back(scalar("oomwatch_prevented_oom_kills_total",
                       "Cgroups at their limit (v1 paused, v2 throttled) that got memory before any kill.",
                       Type::counter, static_cast<double>(a.prevented_kills)));
  Family lat = family("oomwatch_rescue_latency_seconds",
                      "From the kernel's first signal of an incident to the limit written, per applied grant.",
                      Type::histogram);
  lat.histograms.push_back({{}, a.rescue_latency});
  out.push_back(std::move(lat));
  Family kills = family("oomwatch_oom_kill_events_total",
                        "OOM kills the kernel reported, at a cgroup's limit or machine-wide (global).", Type::counter);
  kills.samples.push_back({{{"scope", "cgroup"}}, static_cast<double>(a.oom_kills_cgroup)});
  kills.samples.push_back({{{"scope", "global"}}, static_cast<double>(a.oom_kills_global)});
  out.push_back(std::move(kills));
  if (a.hints_published_seconds > 0)
    out.push_back(scalar("oomwatch_gomemlimit_hints_timestamp_seconds",
                         "Unix time the GOMEMLIMIT hint thread last published its hints (about every second).", Type::gauge,
                         a.hints_published_seconds));
  out.push_back(scalar("oomwatch_ringbuf_dropped_events_total", "OOM events the BPF ring buffer could not queue.",
                       Type::counter, static_cast<double>(a.ringbuf_drops)));
  out.push_back(scalar("oomwatch_snapshots_total", "Snapshots of every memory cgroup taken.", Type::counter,
                       static_cast<double>(a.snapshots)));
  out.push_back(scalar("oomwatch_snapshot_duration_seconds", "How long the last snapshot of every memory cgroup took.",
                       Type::gauge, a.snapshot_seconds));
  out.push_back(scalar("oomwatch_snapshot_interval_seconds",
                       "The effective snapshot interval: --interval, or longer while the CPU budget stretches it.",
                       Type::gauge, a.snapshot_interval_seconds));
  out.push_back(scalar("oomwatch_cpu_budget_ratio", "The agent's CPU budget as a fraction of one core (0: off).",
                       Type::gauge, a.cpu_budget_ratio));
  if (a.cpu_used_ratio >= 0)
    out.push_back(scalar("oomwatch_cpu_used_ratio",
                         "The agent's CPU (every thread) over its last budget period, as a fraction of one core.",
                         Type::gauge, a.cpu_used_ratio));
  out.push_back(scalar("oomwatch_tracked_cgroups", "Memory cgroups in the last snapshot.", Type::gauge,
                       static_cast<double>(a.tracked_cgroups)));
  out.push_back(scalar("oomwatch_metrics_cgroups_dropped",
                       "Cgroups left out of this exposition by metrics_max_cgroups (or a repeated label value).",
                       Type::gauge, static_cast<double>(dropped)));
  out.push_back(scalar("process_cpu_seconds_total", "User and system CPU time of the agent.", Type::counter,
                       p.cpu_seconds));
  out.push_back(scalar("process_resident_memory_bytes", "Resident memory of the agent.", Type::gauge,
                       static_cast<double>(p.rss_bytes)));
  Family heap = family("oomwatch_heap_bytes",
                       "The agent's malloc heap: bytes in use, and bytes its arenas hold free.", Type::gauge);
  heap.samples.push_back({{{"state", "in_use"}}, static_cast<double>(p.heap_in_use_bytes)});
  heap.samples.push_back({{{"state", "free"}}, static_cast<double>(p.heap_free_bytes)});
  out.push_back(std::move(heap));
  out.push_back(scalar("oomwatch_sqlite_memory_bytes", "Heap bytes SQLite holds (page caches, statements).",
                       Type::gauge, static_cast<double>(p.sqlite_bytes)));
  Family bi = family("oomwatch_build_info", "The agent's version and commit; always 1.", Type::gauge);
  bi.samples.push_back({{{"version", b.version}, {"commit", b.commit}}, 1});
  out.push_back(std::move(bi));
  return out;
}

}  // namespace ow::metrics
