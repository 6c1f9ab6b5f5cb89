// The agent's Daemon class, shared by its two implementation files:
// daemon.cpp (start, the event loop's handlers, shutdown) and
// daemon_incident.cpp (an incident: the trigger, the plan, the limit write, the
// audit). Internal to user/agent: the interface is daemon.hpp.
#pragma once

#include "agent/daemon.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "actuate/apply.hpp"
#include "actuate/journal.hpp"
#include "agent/birth_watch.hpp"
#include "agent/cgroup_watch.hpp"
#include "agent/donor_history.hpp"
#include "recsvc/apply.hpp"
#include "recsvc/worker.hpp"
#include "failsafe/guardian.hpp"
#include "store/writer.hpp"
#include "agent/incident_trace.hpp"
#include "failsafe/lock.hpp"
#include "exporter/hooks.hpp"
#include "agent/loop.hpp"
#include "agent/notify.hpp"
#include "agent/oom_source.hpp"
#include "failsafe/protect.hpp"
#include "sampler/worker.hpp"
#include "agent/usage_window.hpp"
#include "bpf/events.hpp"
#include "bpf/loader.hpp"
#include "gomemlimit/inputs.hpp"
#include "hintsvc/runner.hpp"
#include "policy/arming.hpp"
#include "policy/audit.hpp"
#include "policy/pressure.hpp"
#include "policy/realloc.hpp"
#include "policy/rescue.hpp"
#include "sampler/sampler.hpp"
#include "recommend/quantity.hpp"
#include "store/history.hpp"
#include "util/clock.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/sched.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::agent::detail {

failsafe::StatePaths state_paths(const DaemonOptions& o);

// Direct child cgroups of rel (relative paths), sorted, each with its
// cgroup id: the d_ino readdir reports, the inode number a stat would give
// (cgroup/hierarchy.cpp), so listing a thousand children costs one getdents.
std::vector<std::pair<std::string, uint64_t>> children(const cg::Hierarchy& h, const std::string& rel);

// A managed child: a direct child of a --manage subtree.
struct Child {
  std::string path, root;
  uint64_t id = 0;                // cgroup id (inode): a cgroup recreated under the same name is a new child
  std::optional<V1OomWatch> v1;  // v1, enforce + rescue
  bool paused = false;            // v1: under_oom seen, tasks waiting for memory
  int64_t paused_since_ns = 0;
  bool released = false;          // v1: OOM killer given back after the deadline
  uint64_t guard_bytes = 0;       // v2: memory.high oomwatch set (0: none)
  int64_t born_ns = 0;            // CLOCK_MONOTONIC of its mkdir, until it is armed (births only)
  bool seen = false;              // last_* are valid
  uint64_t last_usage = 0, last_failcnt = 0, last_high_events = 0;
  uint64_t last_limit = kUnlimited;  // from the last snapshot, or the last plan oomwatch applied
  // The current incident: triggers with no more than kIncidentGapNs between
  // them. A kill record says what oomwatch tried in it.
  struct {
    int64_t first_signal_ns = 0, last_ns = 0;
    uint32_t triggers = 0, grants = 0;
    uint64_t granted_bytes = 0;
    std::string last_refusal;  // "outcome: reason" of the last trigger that got nothing
  } inc;
};

// A --manage root. v1: armed (oom_kill_disable 1) so that its new children
// are born armed; its own pause at its limit is handed back at once.
struct ManagedRoot {
  std::string path;
  uint64_t id = 0;
  std::optional<V1OomWatch> v1;  // its own pause (v1, armed)
  bool armed = false;             // v1: oomwatch wrote its 1
  bool released = false;          // v1: given back to the OOM killer at its own limit, until no longer under_oom
  std::set<std::string> keep;     // v1: descendants reading 1 before oomwatch armed it (someone else's)
};

constexpr int64_t kIncidentGapNs = 60'000'000'000;
// Growth rate over the snapshots of the last seconds.
constexpr int64_t kGrowthLookbackNs = 5'000'000'000;

class Daemon {
 public:
  explicit Daemon(const DaemonOptions& o, cg::Hierarchy h)
      : o_(o),
        cfg_(o.cfg),
        h_(std::move(h)),
        paths_(state_paths(o)),
        journal_(paths_.journal()),
        act_(h_, paths_.intent()),
        window_(o.window_ns) {}

  Status start();
  Status run() { return loop_->run(); }
  void shutdown();

 private:
  bool rescue_active() const { return cfg_.enforce && cfg_.rescue; }
  // start()'s steps, in order (daemon_start.cpp).
  Status take_node();
  Status open_kernel_side();
  Status open_services();
  Status watch_events();
  Status start_threads();
  Status go_ready();
  void on_kill(const bpf::OomKill& k);
  void on_tick();  // a snapshot taken here and now (at start, or without the worker)
  void on_snapshot_ready();  // the worker's snapshot
  void on_snapshot(const sampler::TakenSnapshot& t);
  void report_drops();
  void on_v1_oom(const std::string& path);
  void on_v2_events();
  void check_paused();
  void refresh_children();
  std::map<std::string, Child>::iterator drop_child(std::map<std::string, Child>::iterator it);
  // Hands the donor history the children alive now when they changed: it
  // reads and keeps only their figures.
  void tell_donor_history();
  void arm_roots();
  void on_root_oom(const std::string& path);
  void rearm_roots();
  void on_births();
  void on_birth(const Birth& b);
  void retry_births();
  void disarm_inherited(const std::string& rel);
  void sweep_descendants();
  void arm(Child& c);
  void update_guard(Child& c);
  void armed_after_birth(Child& c, const char* what);
  // signal_mono_ns: when the kernel signalled (CLOCK_MONOTONIC); from: "kernel"
  // when the kernel timestamped it in BPF, else "wakeup" or "sample".
  void incident(policy::TriggerKind kind, const std::string& path, uint64_t victim_rss, uint64_t usage_now,
                int64_t signal_mono_ns, const char* from);
  nlohmann::json incident_summary(const Child& c, int64_t now) const;
  // Counts a trigger of c at now in its incident, starting a new one after
  // kIncidentGapNs of quiet; signal_ns: the kernel's first signal, 0 = now.
  static void count_trigger(Child& c, int64_t now, int64_t signal_ns);
  static bool in_incident(const Child& c, int64_t now) {
    return c.inc.triggers > 0 && now - c.inc.last_ns <= kIncidentGapNs;
  }
  void audit_unplanned(Child& c, const std::string& result, const std::string& reason,
                       const std::string& limit_cgroup = "");
  // An audit record of a trigger no plan answered: nothing added or adjusted.
  nlohmann::ordered_json unplanned_record(const std::string& path, const char* trigger, const std::string& result,
                                          const std::string& reason) const;
  // Appends (fsynced); a failed write is logged, never fatal: the agent goes on.
  void append_audit(const nlohmann::ordered_json& j) const;
  policy::CgroupState state(const std::string& path);  // usage and limit read now
  policy::WindowFigures figures(const std::string& path) const;  // live window merged with the database's
  // fresh: the siblings read from their files (not the snapshot) in this plan.
  void gather_siblings(policy::Incident& in, const std::string& root, const std::string& path,
                       std::set<std::string>& fresh);
  policy::Plan plan_with_fresh_donors(policy::Incident& in, std::set<std::string>& fresh);
  int64_t kernel_signal(const std::string& path, int64_t t0, const char*& from) const;
  // The page cache in path (memory.stat's active and inactive file): what
  // the kernel can reclaim before it needs more memory.
  uint64_t file_cache_bytes(const std::string& path) const;

  DaemonOptions o_;
  config::Config cfg_;
  cg::Hierarchy h_;
  failsafe::StatePaths paths_;
  std::optional<failsafe::AgentLock> lock_;
  std::optional<failsafe::Guardian> guardian_;
  actuate::Journal journal_;
  actuate::Actuator act_;
  UsageWindow window_;
  policy::Params params_;
  policy::History hist_;
  std::optional<Loop> loop_;
  std::unique_ptr<bpf::Loader> loader_;
  std::unique_ptr<OomSource> oom_;
  std::unique_ptr<sampler::Sampler> sampler_;
  std::unique_ptr<sampler::SnapshotWorker> snapper_;  // owns sampler_ once started (sampler/worker.hpp)
  std::optional<store::HistoryStore> db_;  // opened at start, then owned by history_ (store/writer.hpp)
  std::unique_ptr<store::HistoryWriter> history_;
  std::optional<V2EventsWatch> v2w_;
  std::unique_ptr<exporter::MetricsHooks> metrics_;  // /metrics (--listen); nullptr: off
  std::unique_ptr<hintsvc::HintRunner> hints_;
  std::unique_ptr<DonorHistory> donor_hist_;
  std::vector<std::string> donor_live_;  // the children donor_hist_ was last told of, in kids_ order
  std::unique_ptr<recsvc::RecommendWorker> recs_;
  std::optional<recsvc::RecommendApplier> applier_;  // [recommend] enforce = true
  std::unique_ptr<IncidentTrace> itrace_;    // trace_on_incident (nullptr: off)
  void store_recommendations();
  std::map<std::string, uint64_t> rec_limits_;  // path -> latest recommended limit, for /metrics
  void enforce_recommendation(const recsvc::NewRecommendation& f);
  std::vector<std::string> roots_;
  std::map<std::string, Child> kids_;
  std::map<std::string, ManagedRoot> mroots_;
  std::unique_ptr<BirthWatch> births_;  // nullptr: children found by the walk only
  std::vector<Birth> pending_births_;   // not visible yet when their event came
  int retry_timer_ = -1;                // one-shot: pending_births_ looked at again
  std::unordered_map<uint64_t, std::string> deep_;  // v1: descendants below children seen born (id -> path)
  std::set<uint64_t> swept_;            // v1: descendants sweep_descendants() has looked at
  uint64_t birth_drops_seen_ = 0;
  bool pinned_ = false;
  uint64_t drops_seen_ = 0;
  uint64_t plan_seq_ = 0;
};


}  // namespace ow::agent::detail
