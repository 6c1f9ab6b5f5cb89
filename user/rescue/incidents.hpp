// Incidents: a kernel signal (v1 under_oom, v2 memory.events, an OOM kill)
// or a snapshot short of memory in a managed child, turned into a plan
// (policy::plan), limits written and read back (actuate::Actuator), and an
// audit line; the v1 pause deadline; what a kill record says oomwatch tried.
//
// Runs on the event loop's thread only. The children themselves (arming,
// guards) are rescue/children.hpp's; this room writes limits, and gives a
// paused child its OOM killer back through ManagedChildren::release.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actuate/apply.hpp"
#include "rescue/children.hpp"
#include "rescue/usage_window.hpp"
#include "bpf/events.hpp"
#include "config/config.hpp"
#include "policy/realloc.hpp"
#include "util/noncopyable.hpp"

namespace ow::bpf {
class Loader;
}
namespace ow::exporter {
class MetricsHooks;
}
namespace ow::hintsvc {
class HintRunner;
}
namespace ow::k8s {
class NameCache;
}
namespace ow::trace {
class IncidentTrace;
}

namespace ow::rescue {

class DonorHistory;

// Triggers with no more than this between them are one incident.
constexpr int64_t kIncidentGapNs = 60'000'000'000;

// The agent's parts an incident reaches; each may be null (off, or failed
// to start), and each outlives the Incidents that uses it.
struct IncidentServices {
  const bpf::Loader* loader = nullptr;      // the kernel's reclaim timestamps
  DonorHistory* donors = nullptr;           // donors' figures from the database
  exporter::MetricsHooks* metrics = nullptr;  // /metrics counters
  hintsvc::HintRunner* hints = nullptr;     // refreshed after a limit change
  trace::IncidentTrace* trace = nullptr;           // trace_on_incident
  // Names of Kubernetes (and runtime) containers for the audit lines, filled
  // off this thread by the snapshot worker; looked up without I/O.
  const k8s::NameCache* names = nullptr;
};

class Incidents : NonCopyable {
 public:
  Incidents(const cg::Hierarchy& h, const config::Config& cfg, policy::Params params, actuate::Actuator& act,
            UsageWindow& window, ManagedChildren& kids, IncidentServices svc);

  // An OOM kill in managed child kid: a plan when its own limit was hit,
  // else one audit line saying why no limit move can help.
  void oom_kill(Child& kid, const bpf::OomKill& k);
  // v1: the child's OOM eventfd fired (its tasks are paused at the limit).
  void paused(const std::string& path);
  // v1: a child paused longer than v1_pause_deadline gets its OOM killer back.
  void check_paused();
  // v2: memory.events or memory.max of these children changed.
  void v2_events(const std::vector<std::string>& paths);
  // A snapshot's limit signal for child c (ManagedChildren::observe): an
  // incident when little of its usage is page cache the kernel can drop.
  void limit_signal(const Child& c, uint64_t usage, uint64_t limit, int64_t now);
  // v1: a managed parent at its own limit was handed to the OOM killer.
  void root_released(const std::string& path, int64_t released_us);
  // A child is gone: its cooldown and streak end with it.
  void forget(const std::string& path);

  // What oomwatch tried in c's current incident ({} when none).
  nlohmann::json summary(const Child& c, int64_t now) const;
  // The same for an OOM kill in c that is about to be counted (oom_kill()):
  // the kill is one of its triggers, so a kill that opens an incident has a
  // summary too (1 trigger, nothing granted).
  nlohmann::json kill_summary(const Child& c, int64_t now) const;
  static bool in_incident(const Child& c, int64_t now) {
    return c.inc.triggers > 0 && now - c.inc.last_ns <= kIncidentGapNs;
  }

 private:
  // signal_mono_ns: when the kernel signalled (CLOCK_MONOTONIC); from: "kernel"
  // when the kernel timestamped it in BPF, else "wakeup" or "sample".
  void incident(policy::TriggerKind kind, const std::string& path, uint64_t victim_rss, uint64_t usage_now,
                int64_t signal_mono_ns, const char* from);
  // Counts a trigger of c at now in its incident, starting a new one after
  // kIncidentGapNs of quiet; signal_ns: the kernel's first signal, 0 = now.
  static void count_trigger(Child& c, int64_t now, int64_t signal_ns);
  void audit_unplanned(Child& c, const std::string& result, const std::string& reason,
                       const std::string& limit_cgroup = "");
  // An audit record of a trigger no plan answered: nothing added or adjusted.
  nlohmann::ordered_json unplanned_record(const std::string& path, const char* trigger, const std::string& result,
                                          const std::string& reason) const;
  // Adds the "kubernetes" (or "container") object of path to an audit
  // record when the name cache knows it: no I/O.
  void add_names(nlohmann::ordered_json& j, const std::string& path) const;
  // Appends (fsynced); a failed write is logged, never fatal: the agent goes on.
  void append_audit(const nlohmann::ordered_json& j) const;
  policy::CgroupState state(const std::string& path);  // usage and limit read now
  policy::WindowFigures figures(const std::string& path) const;  // live window merged with the database's
  // fresh: the siblings read from their files (not the snapshot) in this plan.
  void gather_siblings(policy::Incident& in, const std::string& root, const std::string& path,
                       std::set<std::string>& fresh);
  policy::Plan plan_with_fresh_donors(policy::Incident& in, std::set<std::string>& fresh);
  // Writes the plan's limits; the plan is trimmed to what was applied.
  struct Applied {
    std::string result;
    bool ok = false;
    nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  };
  Applied apply(policy::Plan& plan, const std::string& path);
  int64_t kernel_signal(const std::string& path, int64_t t0, const char*& from) const;
  // The page cache in path (memory.stat's active and inactive file): what
  // the kernel can reclaim before it needs more memory.
  uint64_t file_cache_bytes(const std::string& path) const;

  const cg::Hierarchy& h_;
  const config::Config& cfg_;
  policy::Params params_;
  policy::History hist_;
  actuate::Actuator& act_;
  UsageWindow& window_;
  ManagedChildren& kids_;
  IncidentServices svc_;
  uint64_t plan_seq_ = 0;
};

}  // namespace ow::rescue
