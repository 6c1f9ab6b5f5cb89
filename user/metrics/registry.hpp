// The agent's metric families (what `oomwatch run --listen` serves on
// /metrics), made from plain figures. Pure: the daemon and the HTTP server
// (exporter/server.hpp) gather the figures; this file names, labels and
// caps them, and metrics/exposition renders them.
//
// Per cgroup (labels: cgroup, plus namespace/pod/container when known):
//   oomwatch_cgroup_memory_usage_bytes, _working_set_bytes, _limit_bytes
//   (left out when unlimited), _peak_bytes (left out when the kernel gives
//   none), _high_bytes (memory.high; left out when "max" and on v1),
//   oomwatch_cgroup_oom_kills_total, oomwatch_cgroup_memory_max_events_total
//   (v1 failcnt, v2 memory.events "max"), oomwatch_cgroup_gomemlimit_hint_bytes
//   and oomwatch_cgroup_ebpf_memory_bytes (only for cgroups with a published
//   hint: the hint worker measures eBPF memory, nothing else does it cheaply),
//   oomwatch_cgroup_recommended_limit_bytes (a hook: rendered only for
//   cgroups whose recommended_limit_bytes is set; nothing sets it yet).
// At most max_cgroups cgroups are exported: managed ones first, then by
// usage, largest first; oomwatch_metrics_cgroups_dropped says how many were
// left out (a name that escapes to the same label value as another, e.g. two
// names differing only in invalid UTF-8 bytes, is dropped and counted too).
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/exposition.hpp"
#include "sampler/sample.hpp"

namespace ow::metrics {

struct CgroupFigures {
  std::string cgroup;                     // relative path, raw bytes
  std::string k8s_namespace, pod, container;  // "" = unknown: label left out
  bool managed = false;                   // under a --manage subtree: exported first
  uint64_t usage_bytes = 0, working_set_bytes = 0;
  uint64_t limit_bytes = UINT64_MAX;      // UINT64_MAX: unlimited, left out
  uint64_t peak_bytes = 0;                // 0: unknown, left out
  uint64_t high_bytes = UINT64_MAX;       // UINT64_MAX: none, left out
  uint64_t oom_kills = 0, max_events = 0;
  std::optional<uint64_t> gomemlimit_bytes, ebpf_bytes;
  std::optional<uint64_t> recommended_limit_bytes;  // the recommender's figure, when one is wired in
};

CgroupFigures from_sample(const sampler::Sample& s);

struct ActionKey {
  std::string trigger, source, result;
  auto operator<=>(const ActionKey&) const = default;
};

// The agent's own counters, kept by the daemon's loop thread and published
// as a copy after each change.
struct AgentFigures {
  std::map<ActionKey, uint64_t> actions;  // audited decisions
  uint64_t prevented_kills = 0;           // triggers before any kill (oom_pending, pressure) that got memory
  Histogram rescue_latency{rescue_latency_bounds()};  // seconds, kernel signal -> limit written
  uint64_t ringbuf_drops = 0;
  uint64_t snapshots = 0;
  double snapshot_seconds = 0;  // the last snapshot's duration
  uint64_t tracked_cgroups = 0;  // memory cgroups in the last snapshot
  // The CPU budget (policy/cpu_budget.hpp): the effective snapshot interval,
  // the budget (0: off) and the CPU the agent used over the last budget
  // period, both as fractions of one core (< 0: not measured yet).
  double snapshot_interval_seconds = 0;
  double cpu_budget_ratio = 0;
  double cpu_used_ratio = -1;
  // OOM kills the kernel reported (the BPF event), whether or not their
  // cgroup still exists at a scrape: at a cgroup's limit, or machine-wide.
  uint64_t oom_kills_cgroup = 0, oom_kills_global = 0;
  double hints_published_seconds = 0;  // unix time of the hint thread's last pass (0: none yet)
  static std::vector<double> rescue_latency_bounds();
};

struct ProcessFigures {
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
  // malloc's view: bytes handed out, and bytes its arenas hold free (a free
  // figure that grows while in-use stays flat is fragmentation, not a leak).
  uint64_t heap_in_use_bytes = 0, heap_free_bytes = 0;
  uint64_t sqlite_bytes = 0;  // SQLite's share of the heap
};

struct BuildInfo {
  std::string version, commit;
};

// Caps cgs at max_cgroups (managed first, then by usage), removes entries
// whose labels would repeat another's, and sorts the rest by cgroup.
// Returns the number left out.
size_t select_cgroups(std::vector<CgroupFigures>& cgs, size_t max_cgroups);

// Every family, in a fixed order. cgs must already be selected.
std::vector<Family> families(const std::vector<CgroupFigures>& cgs, size_t dropped, const AgentFigures& a,
                             const ProcessFigures& p, const BuildInfo& b);

}  // namespace ow::metrics
