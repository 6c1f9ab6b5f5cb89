// The agent's Daemon class, shared by its implementation files:
// daemon_start.cpp (start, in six steps), daemon.cpp (the event loop's
// handlers that fan out to the rooms, shutdown) and daemon_recommend.cpp
// (recommendations stored and applied). The managed children
// (rescue/children.hpp) and incidents (rescue/incidents.hpp) are rooms of their
// own; Daemon ties them to the kernel's events, the threads and the node's
// safety. Internal to user/agent: the interface is daemon.hpp.
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
#include "rescue/children.hpp"
#include "rescue/donor_history.hpp"
#include "recsvc/apply.hpp"
#include "recsvc/worker.hpp"
#include "failsafe/guardian.hpp"
#include "store/writer.hpp"
#include "trace/incident_trace.hpp"
#include "rescue/incidents.hpp"
#include "failsafe/lock.hpp"
#include "exporter/hooks.hpp"
#include "util/loop.hpp"
#include "agent/notify.hpp"
#include "agent/oom_source.hpp"
#include "failsafe/protect.hpp"
#include "sampler/worker.hpp"
#include "rescue/usage_window.hpp"
#include "bpf/events.hpp"
#include "bpf/loader.hpp"
#include "gomemlimit/inputs.hpp"
#include "hintsvc/runner.hpp"
#include "k8s/name_cache.hpp"
#include "policy/arming.hpp"
#include "policy/audit.hpp"
#include "policy/cpu_budget.hpp"
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

using rescue::Child;
using rescue::DonorHistory;
using rescue::DonorHistoryOptions;
using rescue::IncidentServices;
using rescue::Incidents;
using rescue::ManagedChildren;
using rescue::UsageWindow;
using trace::IncidentTrace;

failsafe::StatePaths state_paths(const DaemonOptions& o);

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
  // start() was refused by a check whose error names its own fix (the lock's
  // holder, the /metrics port's holder, a pin dir off bpffs).
  bool fix_named() const { return fix_named_; }

 private:
  bool rescue_active() const { return cfg_.enforce && cfg_.rescue; }
  // e, noted as naming its fix when it is a refusal of ours (errno 0: a held
  // lock or port, a pin dir off bpffs), not a system call's failure.
  Error refuse(Error e) {
    fix_named_ = e.err == 0;
    return e;
  }
  // start()'s steps, in order (daemon_start.cpp).
  Status take_node();
  Status open_kernel_side();
  Status open_services();
  Status watch_events();
  Status start_threads();
  Status go_ready();
  void on_kill(const bpf::OomKill& k);  // the event stream, then the incident
  void on_tick();  // a snapshot taken here and now (at start, or without the worker)
  void on_snapshot_ready();  // the worker's snapshot
  void on_snapshot(const sampler::TakenSnapshot& t);
  void report_drops();
  void on_child_gone(const std::string& path);
  // Hands the donor history the children alive now when they changed: it
  // reads and keeps only their figures.
  void tell_donor_history();
  void store_recommendations();
  void enforce_recommendation(const recsvc::NewRecommendation& f);

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
  std::optional<Loop> loop_;
  std::unique_ptr<bpf::Loader> loader_;
  std::unique_ptr<OomSource> oom_;
  std::unique_ptr<sampler::Sampler> sampler_;
  // Names of Kubernetes containers for audit lines: learned on the snapshot
  // thread, looked up by incidents_ (before both: it outlives them).
  std::unique_ptr<k8s::NameCache> names_;
  std::unique_ptr<sampler::SnapshotWorker> snapper_;  // owns sampler_ once started (sampler/worker.hpp)
  std::optional<store::HistoryStore> db_;  // opened at start, then owned by history_ (store/writer.hpp)
  std::unique_ptr<store::HistoryWriter> history_;
  std::unique_ptr<exporter::MetricsHooks> metrics_;  // /metrics (--listen); nullptr: off
  std::unique_ptr<hintsvc::HintRunner> hints_;
  std::unique_ptr<DonorHistory> donor_hist_;
  std::vector<std::string> donor_live_;  // the children donor_hist_ was last told of, in kids_ order
  std::unique_ptr<recsvc::RecommendWorker> recs_;
  std::optional<recsvc::RecommendApplier> applier_;  // [recommend] enforce = true
  std::unique_ptr<IncidentTrace> itrace_;    // trace_on_incident (nullptr: off)
  std::map<std::string, uint64_t> rec_limits_;  // path -> latest recommended limit, for /metrics
  std::unique_ptr<ManagedChildren> kids_;  // made with the loop (open_kernel_side)
  std::unique_ptr<Incidents> incidents_;   // made once every service it reaches is (start_threads)
  bool pinned_ = false;
  uint64_t drops_seen_ = 0;
  UniqueFd listener_;  // the /metrics port, bound in take_node, served from start_threads
  bool fix_named_ = false;
};


}  // namespace ow::agent::detail
