#include "agent/daemon.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "actuate/apply.hpp"
#include "actuate/journal.hpp"
#include "agent/cgroup_watch.hpp"
#include "agent/donor_history.hpp"
#include "agent/recommend_apply.hpp"
#include "agent/recommend_worker.hpp"
#include "agent/guardian.hpp"
#include "agent/hint_worker.hpp"
#include "agent/history_writer.hpp"
#include "agent/hints.hpp"
#include "agent/incident_trace.hpp"
#include "agent/lock.hpp"
#include "agent/metrics_hooks.hpp"
#include "agent/loop.hpp"
#include "agent/notify.hpp"
#include "agent/oom_source.hpp"
#include "agent/protect.hpp"
#include "agent/snapshot_worker.hpp"
#include "agent/usage_window.hpp"
#include "bpf/events.hpp"
#include "bpf/loader.hpp"
#include "gomemlimit/inputs.hpp"
#include "policy/audit.hpp"
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

namespace ow::agent {
namespace {

StatePaths state_paths(const DaemonOptions& o) {
  StatePaths p;
  p.state_dir = o.state_dir;
  p.pin_dir = o.pin_dir;
  p.audit_log = o.cfg.audit_log;
  return p;
}

// Direct child cgroups of rel (relative paths), sorted, each with its
// cgroup id: the d_ino readdir reports, the inode number a stat would give
// (cgroup/hierarchy.cpp), so listing a thousand children costs one getdents.
std::vector<std::pair<std::string, uint64_t>> children(const cg::Hierarchy& h, const std::string& rel) {
  std::vector<std::pair<std::string, uint64_t>> out;
  DIR* d = ::opendir(h.abs(rel).c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    out.emplace_back(cg::join_rel(rel, e->d_name), static_cast<uint64_t>(e->d_ino));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// A managed child: a direct child of a --manage subtree.
struct Child {
  std::string path, root;
  uint64_t id = 0;                // cgroup id (inode): a cgroup recreated under the same name is a new child
  std::optional<V1OomWatch> v1;  // v1, enforce + rescue
  bool paused = false;            // v1: under_oom seen, tasks waiting for memory
  int64_t paused_since_ns = 0;
  bool released = false;          // v1: OOM killer given back after the deadline
  uint64_t guard_bytes = 0;       // v2: memory.high oomwatch set (0: none)
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
  void on_kill(const bpf::OomKill& k);
  void on_tick();  // a snapshot taken here and now (at start, or without the worker)
  void on_snapshot_ready();  // the worker's snapshot
  void on_snapshot(const TakenSnapshot& t);
  void report_drops();
  void on_v1_oom(const std::string& path);
  void on_v2_events();
  void check_paused();
  void refresh_children();
  void arm(Child& c);
  void update_guard(Child& c);
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
  policy::CgroupState state(const std::string& path);  // usage and limit read now
  policy::WindowFigures figures(const std::string& path) const;  // live window merged with the database's
  // fresh: the siblings read from their files (not the snapshot) in this plan.
  void gather_siblings(policy::Incident& in, const std::string& root, const std::string& path,
                       std::set<std::string>& fresh);
  policy::Plan plan_with_fresh_donors(policy::Incident& in, std::set<std::string>& fresh);
  int64_t kernel_signal(const std::string& path, int64_t t0, const char*& from) const;
  bool short_of_memory(const std::string& path, uint64_t usage, uint64_t limit) const;
  uint64_t guard_distance(uint64_t limit) const;

  DaemonOptions o_;
  config::Config cfg_;
  cg::Hierarchy h_;
  StatePaths paths_;
  std::optional<AgentLock> lock_;
  std::optional<Guardian> guardian_;
  actuate::Journal journal_;
  actuate::Actuator act_;
  UsageWindow window_;
  policy::Params params_;
  policy::History hist_;
  std::optional<Loop> loop_;
  std::unique_ptr<bpf::Loader> loader_;
  std::unique_ptr<OomSource> oom_;
  std::unique_ptr<sampler::Sampler> sampler_;
  std::unique_ptr<SnapshotWorker> snapper_;  // owns sampler_ once started (agent/snapshot_worker.hpp)
  std::optional<store::HistoryStore> db_;  // opened at start, then owned by history_ (agent/history_writer.hpp)
  std::unique_ptr<HistoryWriter> history_;
  std::optional<V2EventsWatch> v2w_;
  std::unique_ptr<MetricsHooks> metrics_;  // /metrics (--listen); nullptr: off
  std::unique_ptr<HintService> hint_svc_;  // until the worker takes it
  std::unique_ptr<HintWorker> hints_;
  std::unique_ptr<DonorHistory> donor_hist_;
  std::unique_ptr<RecommendWorker> recs_;
  std::optional<RecommendApplier> applier_;  // [recommend] enforce = true
  std::unique_ptr<IncidentTrace> itrace_;    // trace_on_incident (nullptr: off)
  void store_recommendations();
  std::map<std::string, uint64_t> rec_limits_;  // path -> latest recommended limit, for /metrics
  void enforce_recommendation(const NewRecommendation& f);
  std::vector<std::string> roots_;
  std::map<std::string, Child> kids_;
  bool pinned_ = false;
  uint64_t drops_seen_ = 0;
  uint64_t plan_seq_ = 0;
};

uint64_t Daemon::guard_distance(uint64_t limit) const {
  policy::GuardParams g;
  return std::max<uint64_t>(g.guard_bytes, static_cast<uint64_t>(g.guard_fraction * static_cast<double>(limit)));
}

Status Daemon::start() {
  if (auto s = mkdir_p(o_.state_dir); !s) return s;
  auto lock = AgentLock::acquire(paths_.lock_file(), std::chrono::milliseconds(o_.lock_wait_ms));
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  // Crash recovery first: nothing of a previous run may stay paused, throttled or hinted.
  auto rr = restore_node(h_, paths_);
  if (rr.total() > 0)
    spdlog::warn("a previous run left the node changed: restored {} setting(s), {} limit(s), {} GOMEMLIMIT "
                 "hint(s), {} pin(s)",
                 rr.settings, rr.limits, rr.hints, rr.pins);
  if (!rr.problems.empty()) return app_error("could not put back what a previous run left: " + rr.problems.front());
  if (auto s = journal_.load(); !s) return s;
  for (const auto& w : protect_self()) spdlog::warn("self-protection: {}", w);
  // This thread runs the loop; threads started from here on start normal (util/sched.hpp).
  if (auto pr = raise_thread_priority(cfg_.loop_priority); !pr.warning.empty())
    spdlog::warn("event loop priority: {}", pr.warning);
  spdlog::debug("event loop priority: {}", thread_priority_text());
  // Before the first change to the node: whatever ends the agent, the guardian puts it back.
  if (cfg_.enforce || o_.hints) {
    auto g = Guardian::start(h_, paths_, lock_->fd());
    if (!g) return g.error();
    guardian_.emplace(std::move(*g));
    spdlog::debug("guardian pid {} restores the node if the agent dies", guardian_->pid());
  }

  for (const auto& m : cfg_.manage) {
    auto r = h_.resolve(m);
    if (!r) return r.error();
    roots_.push_back(*r);
  }
  params_ = config::to_params(cfg_);
  params_.page_bytes = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  params_.machine_memory_bytes = gomemlimit::read_mem_total().value_or(0);

  auto loop = Loop::create();
  if (!loop) return loop.error();
  loop_.emplace(std::move(*loop));
  if (auto s = loop_->handle_signals(
          [] { spdlog::info("SIGHUP: the agent stays up (restart it to apply a changed config)"); });
      !s)
    return s;

  bpf::LoaderOptions lo;
  lo.oom_events = true;
  lo.snapshots = true;
  lo.memcg_v1 = h_.version() == cg::Version::V1;
  lo.reclaim = true;
  lo.bpfmem = o_.hints;  // eBPF memory per cgroup, for the hints
  auto loader = bpf::Loader::open(lo);
  if (!loader) return loader.error();
  loader_ = std::move(*loader);
  for (const auto& hk : loader_->hooks()) spdlog::info("hooked {} via {}", hk.tracepoint, hk.mode);
  if (!o_.pin_dir.empty()) {
    if (auto s = loader_->pin_maps(o_.pin_dir); !s)
      spdlog::warn("maps not pinned for bpftool: {}", s.error().message());
    else
      pinned_ = true;
  }

  auto oom = OomSource::attach(*loader_, h_, [this](const bpf::OomKill& k) { on_kill(k); });
  if (!oom) return oom.error();
  oom_ = std::move(*oom);
  auto smp = sampler::Sampler::open(h_, loader_.get());
  if (!smp) return smp.error();
  sampler_ = std::move(*smp);
  spdlog::info("sampling every {} through {}", format_duration(std::chrono::nanoseconds(cfg_.interval_ns)),
               sampler_->source_name());

  if (o_.hints) {
    HintOptions ho;
    ho.period_ns = cfg_.gomemlimit_interval_ns;
    ho.roots = roots_;
    ho.loader = loader_.get();
    ho.publish.hint_dir = o_.state_dir + "/gomemlimit";
    // Without a bpffs pin dir the map is skipped (xattr and file only).
    ho.publish.pin_path = (o_.pin_dir.empty() ? o_.state_dir : o_.pin_dir) + "/gomemlimit";
    auto hs = HintService::open(h_, ho);
    if (!hs)
      spdlog::warn("no GOMEMLIMIT hints: {}", hs.error().message());
    else
      hint_svc_ = std::move(*hs);
  }
  if (!cfg_.db.empty() && cfg_.db != "none") {
    auto db = store::HistoryStore::open(cfg_.db);
    if (!db) return db.error();
    db_.emplace(std::move(*db));
    spdlog::info("history in {}", cfg_.db);
    if (!roots_.empty()) {
      DonorHistoryOptions dh;
      dh.db_path = cfg_.db;
      dh.roots = roots_;
      dh.window_ns = cfg_.donor_window_ns;
      auto d = DonorHistory::open(dh);
      if (!d)
        spdlog::warn("donors judged on the live window only: {}", d.error().message());
      else
        donor_hist_ = std::move(*d);
    }
    RecommendWorkerOptions ro;
    ro.db_path = cfg_.db;
    ro.roots = roots_;
    ro.interval_ns = cfg_.recommend_interval_ns;
    ro.pods_log_dir = cfg_.recommend_pods_log_dir;
    auto rw = RecommendWorker::open(ro, h_);
    if (!rw)
      spdlog::warn("no recommendations: {}", rw.error().message());
    else
      recs_ = std::move(*rw);
    if (recs_ && cfg_.recommend_enforce) applier_.emplace(act_, cfg_.audit_log);
  }
  if (auto dir = parent_dir(cfg_.audit_log); !dir.empty())
    if (auto s = mkdir_p(dir); !s) return s;
  // The audit log must be writable (and not a symlink) before any decision is made.
  if (auto fd = create_or_append(cfg_.audit_log); !fd) return fd.error();
  if (cfg_.trace_on_incident_ns > 0)
    itrace_ = std::make_unique<IncidentTrace>(h_, cfg_.audit_log, std::chrono::nanoseconds(cfg_.trace_on_incident_ns));

  if (auto s = loop_->add_fd(oom_->epoll_fd(), [this] {
        if (auto p = oom_->poll(0); !p) spdlog::error("ring buffer: {}", p.error().message());
      });
      !s)
    return s;
  if (rescue_active() && h_.version() == cg::Version::V2) {
    auto w = V2EventsWatch::open();
    if (!w) return w.error();
    v2w_.emplace(std::move(*w));
    if (auto s = loop_->add_fd(v2w_->fd(), [this] { on_v2_events(); }); !s) return s;
  }
  // After the guardian's fork: the server has a thread of its own.
  if (auto m = MetricsHooks::start(cfg_, roots_); !m)
    return m.error();
  else
    metrics_ = std::move(*m);
  if (hint_svc_) {
    // The first round before ready; then the worker thread (after the
    // guardian's fork) keeps them current, off the rescue path.
    hint_svc_->tick(mono_ns(), true);
    hints_ = std::make_unique<HintWorker>(std::move(hint_svc_),
                                          metrics_ ? metrics_->hint_sink() : std::function<void(const HintService&)>{});
  }
  // After the guardian's fork: the writer has a thread of its own.
  if (db_) {
    history_ = std::make_unique<HistoryWriter>(std::move(*db_));
    db_.reset();
  }
  if (rescue_active() && h_.version() == cg::Version::V1) {
    auto d = loop_->add_timer(std::chrono::milliseconds(20), [this] { check_paused(); });
    if (!d) return d.error();
  }

  if (roots_.empty())
    spdlog::info("no --manage subtree: observing only (OOM kills, history)");
  else
    spdlog::info("managing children of {} ({}, reservation {}, rescue {}, audit {})", fmt::join(roots_, ", "),
                 cfg_.enforce ? "enforcing" : "dry run: nothing is written", policy::to_string(cfg_.reservation),
                 cfg_.rescue ? "on" : "off", cfg_.audit_log);
  on_tick();  // the first snapshot, here, before ready
  // Then snapshots on their own thread (after the guardian's fork and the
  // signal mask), the loop woken through an eventfd; a timer on the loop
  // where the worker cannot start.
  if (auto w = SnapshotWorker::start(*sampler_, cfg_.interval_ns); w) {
    snapper_ = std::move(*w);
    if (auto s = loop_->add_fd(snapper_->fd(), [this] { on_snapshot_ready(); }); !s) return s;
  } else {
    spdlog::warn("snapshots on the event loop: {}", w.error().message());
    auto t = loop_->add_timer(std::chrono::nanoseconds(cfg_.interval_ns), [this] { on_tick(); });
    if (!t) return t.error();
  }
  if (auto s = write_file_atomic(paths_.ready_file(), std::to_string(::getpid()) + "\n"); !s)
    spdlog::warn("ready file: {}", s.error().message());
  sd_notify_msg("READY=1");
  spdlog::info("ready ({} mode{})", cfg_.enforce ? "enforcing" : "observe-only", o_.hints ? ", GOMEMLIMIT hints" : "");
  return {};
}

// The worker's new recommendations: stored here, on the thread that owns the
// database's writes, and logged once each.
void Daemon::store_recommendations() {
  if (!recs_ || !history_) return;
  auto fresh = recs_->take();
  if (fresh.empty()) return;
  std::vector<store::RecommendationRow> rows;
  for (const auto& f : fresh) rows.push_back(f.row);
  history_->recommendations(std::move(rows));
  if (metrics_) {  // /metrics: the latest recommended limit of each cgroup
    for (const auto& f : fresh) rec_limits_[f.row.path] = f.row.limit_bytes;
    metrics_->server().publish_recommendations(std::make_shared<const RecommendationTable>(rec_limits_));
  }
  for (const auto& f : fresh)
    spdlog::info("recommendation for {}: request {} limit {} ({} confidence): {}", f.name,
                 recommend::quantity(f.row.request_bytes), recommend::quantity(f.row.limit_bytes), f.row.confidence,
                 f.row.rationale);
  if (applier_)
    for (const auto& f : fresh) enforce_recommendation(f);
}

// Only --manage children; Kubernetes-owned ones are refused by the step itself.
void Daemon::enforce_recommendation(const NewRecommendation& f) {
  auto it = kids_.find(f.row.path);
  if (it == kids_.end()) return;
  Child& c = it->second;
  auto u = h_.read(c.path);
  if (!u) return;
  auto pol = config::cgroup_policy(cfg_, c.path);
  RecommendApplier::Target t{u->limit_bytes, u->usage_bytes, pol.floor_bytes, pol.ceiling_bytes,
                             in_incident(c, mono_ns())};
  if (auto n = applier_->apply(f, t, !cfg_.enforce, wall_ns())) {
    c.last_limit = *n;
    if (c.guard_bytes) update_guard(c);
  }
}

void Daemon::shutdown() {
  if (!lock_) return;  // another agent's state dir: nothing here is ours
  sd_notify_msg("STOPPING=1");
  snapper_.reset();  // no snapshot from here on; the sampler is the loop's again
  if (hints_)
    if (auto s = hints_->stop(); !s) spdlog::warn("GOMEMLIMIT hints: {}", s.error().message());
  if (!journal_.empty()) {
    auto n = journal_.restore(h_);
    if (!n)
      spdlog::error("could not restore settings: {}; run 'oomwatch restore'", n.error().message());
    else
      spdlog::info("restored {} setting(s) (oom_kill_disable, memory.high)", *n);
  }
  if (pinned_) loader_->unpin_maps();
  donor_hist_.reset();
  store_recommendations();  // what the worker queued; a round still running is dropped with it
  recs_.reset();
  itrace_.reset();  // a running trace ends now and writes its line
  if (history_) history_->stop(wall_ns());  // what is queued, then a last maintain
  ::unlink(paths_.ready_file().c_str());
  if (guardian_) guardian_->stop();
}

policy::CgroupState Daemon::state(const std::string& path) {
  policy::CgroupState s;
  s.path = path;
  if (auto u = h_.read(path)) {
    s.usage_bytes = u->usage_bytes;
    s.limit_bytes = u->limit_bytes;
  }
  s.window = figures(path);
  s.config = config::cgroup_policy(cfg_, path);
  return s;
}

policy::WindowFigures Daemon::figures(const std::string& path) const {
  int64_t now = mono_ns();
  policy::WindowFigures f = window_.figures(path, now);
  // History from the database (1 h by default) decides a donor's median and
  // p95; the live window adds the minutes since its last refresh.
  if (donor_hist_)
    if (auto d = donor_hist_->get(path)) {
      uint64_t live_max = f.has_stats ? f.max_bytes : 0;
      f.has_stats = true;
      f.median_bytes = d->median_bytes;
      f.p95_bytes = d->p95_bytes;
      f.min_bytes = d->min_bytes;
      f.max_bytes = std::max(d->max_bytes, live_max);
      f.span_ns = std::max(f.span_ns, wall_ns() - d->first_ts_ns);
    }
  return f;
}

void Daemon::refresh_children() {
  std::vector<std::pair<std::string, uint64_t>> alive;  // (path, cgroup id), sorted by path per root
  std::vector<std::string> alive_root;                  // the root of each entry of alive
  for (const auto& r : roots_)
    for (auto& c : children(h_, r)) {
      alive.push_back(std::move(c));
      alive_root.push_back(r);
    }
  std::unordered_map<std::string_view, uint64_t> ids;  // views into alive, which no longer changes
  ids.reserve(alive.size());
  for (const auto& [p, id] : alive) ids.emplace(p, id);
  for (auto it = kids_.begin(); it != kids_.end();) {
    auto a = ids.find(it->first);
    if (a != ids.end() && a->second == it->second.id) {
      ++it;
      continue;
    }
    if (it->second.v1) loop_->remove_fd(it->second.v1->fd());
    if (v2w_) v2w_->remove(it->first);
    window_.forget(it->first);
    spdlog::info("{} is gone{}", printable(it->first), a != ids.end() ? " (a new cgroup has its name)" : "");
    it = kids_.erase(it);
  }
  std::vector<Child*> added;  // std::map: pointers stay valid
  for (size_t i = 0; i < alive.size(); ++i) {
    const auto& [p, id] = alive[i];
    if (kids_.count(p)) continue;
    Child c;
    c.path = p;
    c.root = alive_root[i];
    c.id = id;
    added.push_back(&kids_.emplace(p, std::move(c)).first->second);
  }
  if (!rescue_active() || added.empty()) return;
  if (h_.version() == cg::Version::V1 && added.size() > 1) {
    // One journal write for all of them before any is changed; arm() then
    // finds each entry recorded (a child arm() skips keeps a harmless one).
    std::vector<actuate::Journal::Entry> es;
    for (const Child* c : added)
      if (auto ev = h_.events(c->path); ev && !ev->oom_kill_disable) es.push_back({c->path, "memory.oom_control", "0"});
    if (auto s = journal_.remember(es); !s) spdlog::error("journal: {}", s.error().message());  // arm() refuses each
  }
  for (Child* c : added) arm(*c);
}

void Daemon::arm(Child& c) {
  if (h_.version() == cg::Version::V1) {
    auto ev = h_.events(c.path);
    if (!ev) return;
    if (!ev->oom_kill_disable) {
      if (auto s = journal_.remember(c.path, "memory.oom_control", "0"); !s) {
        spdlog::error("not arming {}: journal: {}", c.path, s.error().message());
        return;
      }
      if (auto s = h_.set_oom_kill_disable(c.path, true); !s) {
        spdlog::warn("not arming {}: {}", c.path, s.error().message());
        return;
      }
    }
    auto w = V1OomWatch::open(h_, c.path);
    if (!w) {
      spdlog::warn("no OOM notification for {}: {}", c.path, w.error().message());
      (void)h_.set_oom_kill_disable(c.path, false);
      return;
    }
    c.v1.emplace(std::move(*w));
    std::string p = c.path;
    (void)loop_->add_fd(c.v1->fd(), [this, p] { on_v1_oom(p); });
    spdlog::info("armed {}: paused at its limit, not killed, until oomwatch acts (deadline {})", c.path,
                 format_duration(std::chrono::nanoseconds(cfg_.v1_pause_deadline_ns)));
  } else {
    if (v2w_) (void)v2w_->add(h_, c.path);
    update_guard(c);
  }
}

// v2: memory.high a guard below memory.max, following max as it changes.
void Daemon::update_guard(Child& c) {
  auto u = h_.read(c.path);
  if (!u) return;
  if (c.guard_bytes == 0 && u->high_bytes != kUnlimited) return;  // someone else's memory.high: leave it
  if (c.guard_bytes != 0 && u->high_bytes != c.guard_bytes) return;  // changed behind our back
  auto want = policy::rescue_high_bytes(u->limit_bytes, u->usage_bytes);
  uint64_t v = want ? *want : kUnlimited;
  if (v == u->high_bytes) return;
  if (c.guard_bytes == 0) {
    if (auto s = journal_.remember(c.path, "memory.high", "max"); !s) return;
  }
  if (auto s = h_.set_high(c.path, v); !s) {
    spdlog::warn("memory.high of {}: {}", c.path, s.error().message());
    return;
  }
  c.guard_bytes = v == kUnlimited ? 0 : v;
}

void Daemon::on_kill(const bpf::OomKill& k) {
  Child* kid = nullptr;
  for (auto& [p, c] : kids_)
    if (cg::is_under(k.cgroup, p)) kid = &c;
  auto ev = bpf::to_json(k);
  // A managed child killed anyway: the event says what oomwatch tried.
  if (kid)
    if (auto inc = incident_summary(*kid, mono_ns()); !inc.empty()) ev["oomwatch"] = inc;
  std::string line = json_line(ev) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  report_drops();
  if (!kid) return;
  const auto& r = k.raw;
  // Raising the child helps only when its own limit was hit.
  if (r.limit_memcg_id == 0) {
    audit_unplanned(*kid, "global",
                    "no cgroup was at its limit: the machine is out of memory, no limit to move");
    return;
  }
  if (!k.limit_cgroup.empty() && k.limit_cgroup != kid->path) {
    if (cg::is_under(kid->path, k.limit_cgroup))
      audit_unplanned(*kid, "parent_limit",
                      "the allocation hit the limit of " + k.limit_cgroup +
                          " (the managed parent or above): raising a child cannot help",
                      k.limit_cgroup);
    else
      audit_unplanned(*kid, "below_child",
                      "the allocation hit the limit of " + k.limit_cgroup +
                          ", below the managed child: oomwatch moves only the children's limits",
                      k.limit_cgroup);
    return;
  }
  incident(policy::TriggerKind::oom_kill, kid->path, r.anon_rss_bytes + r.file_rss_bytes + r.shmem_rss_bytes,
           h_.usage(kid->path).value_or(0), static_cast<int64_t>(r.ts_ns), "kernel");
}

// An OOM kill in a managed child that no limit move can answer: one audit
// line saying why, nothing changed.
void Daemon::audit_unplanned(Child& c, const std::string& result, const std::string& reason,
                             const std::string& limit_cgroup) {
  int64_t now = mono_ns();
  count_trigger(c, now, 0);
  c.inc.last_refusal = result + ": " + reason;
  nlohmann::ordered_json j;
  j["oom_cgroup"] = c.path;
  j["added_memory"] = 0;
  j["adjusted_cgroups"] = nlohmann::ordered_json::array();
  j["ts"] = policy::rfc3339_ms(wall_ns());
  j["trigger"] = "oom_kill";
  j["source"] = "none";
  j["dry_run"] = !cfg_.enforce;
  j["result"] = result;
  j["reason"] = reason;
  j["limit_cgroup"] = limit_cgroup;
  j["global"] = limit_cgroup.empty();
  j["incident"] = incident_summary(c, now);
  if (auto s = append_line_fsync(cfg_.audit_log, json_line(j)); !s)
    spdlog::error("audit log {}: {}", cfg_.audit_log, s.error().message());
  if (itrace_) itrace_->trigger(c.path, "oom_kill", j["ts"].get<std::string>());
  if (metrics_) metrics_->action(policy::TriggerKind::oom_kill, "none", result, -1, false);
  spdlog::info("oom_kill {}: {}", printable(c.path), reason);
}

// Events the kernel could not queue are said, never lost silently: a warning
// and a {"type":"drops"} line on the event stream, as `oomwatch events` does.
void Daemon::report_drops() {
  uint64_t d = oom_->drops();
  if (d == drops_seen_) return;
  drops_seen_ = d;
  spdlog::warn("ring buffer full: {} OOM events lost so far", d);
  std::string line = json_line(nlohmann::json{{"type", "drops"}, {"count", d}}) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void Daemon::on_tick() {
  report_drops();
  refresh_children();
  on_snapshot(take_snapshot(*sampler_));
}

void Daemon::on_snapshot_ready() {
  auto t = snapper_->take();
  if (!t) return;
  report_drops();
  refresh_children();
  on_snapshot(*t);
}

void Daemon::on_snapshot(const TakenSnapshot& t) {
  if (!t.snap) {
    spdlog::warn("snapshot failed: {}", t.error);
    return;
  }
  const int64_t now = t.started_mono_ns;
  // Shared (not copied) with the hint worker, the history writer and the
  // /metrics thread, which only read it.
  const auto& snap = t.snap;
  if (hints_) hints_->snapshot(snap);
  if (metrics_) metrics_->snapshot(snap, t.took_ns, oom_->drops());
  if (history_) {
    history_->snapshot(snap);
    store_recommendations();
  }
  if (kids_.empty()) return;
  std::vector<std::pair<std::string, uint64_t>> pressured;  // path, usage
  for (auto& [p, c] : kids_) {
    auto it = t.index->find(p);
    if (it == t.index->end()) continue;
    const auto& s = snap->samples[it->second];
    window_.add(p, now, s.usage_bytes);
    if (c.released && !c.paused) {
      // The kernel had its turn after the deadline; take over again.
      auto ev = h_.events(p);
      if (ev && !ev->under_oom && h_.set_oom_kill_disable(p, true)) c.released = false;
    }
    if (c.seen && cfg_.rescue && s.limit_bytes != kUnlimited &&
        s.usage_bytes + guard_distance(s.limit_bytes) >= s.limit_bytes &&
        (s.failcnt > c.last_failcnt || (c.guard_bytes && s.ev_high > c.last_high_events)) &&
        short_of_memory(p, s.usage_bytes, s.limit_bytes))
      pressured.emplace_back(p, s.usage_bytes);
    c.seen = true;
    c.last_usage = s.usage_bytes;
    c.last_limit = s.limit_bytes;
    c.last_failcnt = s.failcnt;
    c.last_high_events = s.ev_high;
    if (c.guard_bytes || (rescue_active() && h_.version() == cg::Version::V2)) update_guard(c);
  }
  window_.prune(now);
  for (const auto& [p, usage] : pressured) incident(policy::TriggerKind::pressure, p, 0, usage, now, "sample");
}

// At its limit with little the kernel can reclaim: usage minus the file LRU
// pages is within the guard of the limit. A cgroup full of page cache is not
// short of memory (the kernel drops cache); growing its limit for every
// reclaim would feed the cache forever.
bool Daemon::short_of_memory(const std::string& path, uint64_t usage, uint64_t limit) const {
  if (limit == kUnlimited) return false;
  auto st = h_.stat(path);
  uint64_t file = 0;
  if (st) {
    auto get = [&](const char* k) {
      auto it = st->find(k);
      return it == st->end() ? uint64_t{0} : it->second;
    };
    bool v1 = h_.version() == cg::Version::V1;
    file = v1 ? get("total_inactive_file") + get("total_active_file") : get("inactive_file") + get("active_file");
  }
  uint64_t hard = usage > file ? usage - file : 0;
  return hard + guard_distance(limit) >= limit;
}

// The kernel's own timestamp of a limit signal: the end of the last reclaim
// attempt in the cgroup (BPF, CLOCK_MONOTONIC) when it is recent; else t0.
int64_t Daemon::kernel_signal(const std::string& path, int64_t t0, const char*& from) const {
  if (auto id = h_.id_of(path))
    if (auto st = loader_->reclaim_stat(*id))
      if (auto last = static_cast<int64_t>(st->last_ns); last <= t0 && t0 - last < 1'000'000'000) {
        from = "kernel";
        return last;
      }
  return t0;
}

void Daemon::on_v1_oom(const std::string& path) {
  auto it = kids_.find(path);
  if (it == kids_.end() || !it->second.v1) return;
  int64_t t0 = mono_ns();
  it->second.v1->drain();
  auto ev = h_.events(path);
  if (!ev || !ev->under_oom) return;
  Child& c = it->second;
  if (!c.paused) {
    c.paused = true;
    c.paused_since_ns = t0;
  }
  const char* from = "wakeup";
  int64_t signal = kernel_signal(path, t0, from);
  incident(policy::TriggerKind::oom_pending, path, 0, h_.usage(path).value_or(0), signal, from);
}

void Daemon::check_paused() {
  int64_t now = mono_ns();
  for (auto& [p, c] : kids_) {
    if (!c.paused) continue;
    auto ev = h_.events(p);
    if (!ev || !ev->under_oom) {
      c.paused = false;
      continue;
    }
    if (now - c.paused_since_ns < cfg_.v1_pause_deadline_ns) continue;
    if (auto s = h_.set_oom_kill_disable(p, false); !s) {
      spdlog::error("could not give {} its OOM killer back: {}", p, s.error().message());
      continue;
    }
    spdlog::warn("{} paused for {} without memory to give: the kernel's OOM killer decides", p,
                 format_duration(std::chrono::nanoseconds(now - c.paused_since_ns)));
    c.paused = false;
    c.released = true;
  }
}

void Daemon::on_v2_events() {
  int64_t now = mono_ns();
  for (const auto& p : v2w_->drain()) {
    auto it = kids_.find(p);
    if (it == kids_.end()) continue;
    auto ev = h_.events(p);
    if (!ev) continue;
    Child& c = it->second;
    bool grew = ev->high > c.last_high_events || ev->max > c.last_failcnt;
    c.last_high_events = ev->high;
    c.last_failcnt = ev->max;
    const char* from = "wakeup";
    if (grew) {
      auto u = h_.read(p);
      // Throttled at the memory.high guard, the kernel holds usage near the
      // guard, so that is the limit to measure against.
      if (!u || !short_of_memory(p, u->usage_bytes, c.guard_bytes ? c.guard_bytes : u->limit_bytes)) continue;
    }
    if (grew) incident(policy::TriggerKind::pressure, p, 0, h_.usage(p).value_or(0), kernel_signal(p, now, from), from);
  }
}

void Daemon::count_trigger(Child& c, int64_t now, int64_t signal_ns) {
  if (!in_incident(c, now)) c.inc = {};
  if (c.inc.triggers++ == 0) c.inc.first_signal_ns = signal_ns > 0 ? signal_ns : now;
  c.inc.last_ns = now;
}

nlohmann::json Daemon::incident_summary(const Child& c, int64_t now) const {
  nlohmann::json j = nlohmann::json::object();
  if (!in_incident(c, now)) return j;
  j["triggers"] = c.inc.triggers;
  j["grants"] = c.inc.grants;
  j["granted_bytes"] = c.inc.granted_bytes;
  if (!c.inc.last_refusal.empty()) j["last_refusal"] = c.inc.last_refusal;
  if (c.inc.first_signal_ns > 0 && c.inc.first_signal_ns <= now)
    j["since_first_signal_us"] = (now - c.inc.first_signal_ns) / 1000;
  return j;
}

// The siblings of path under root into in.siblings: from the last snapshot,
// or read now for a child not seen in one yet. The directory is listed (one
// getdents) so a child created since the last snapshot still counts in
// strict mode's sum of limits. Limits change only by plans (kept current in
// kids_) or by an operator.
void Daemon::gather_siblings(policy::Incident& in, const std::string& root, const std::string& path,
                             std::set<std::string>& fresh) {
  for (const auto& [sp, id] : children(h_, root)) {
    if (sp == path) continue;
    auto k = kids_.find(sp);
    if (k == kids_.end() || !k->second.seen) {
      in.siblings.push_back(state(sp));
      fresh.insert(sp);
      continue;
    }
    const Child& sc = k->second;
    policy::CgroupState cached;
    cached.path = sp;
    cached.usage_bytes = sc.last_usage;
    cached.limit_bytes = sc.last_limit;
    cached.window = figures(sp);
    cached.config = config::cgroup_policy(cfg_, sp);
    in.siblings.push_back(std::move(cached));
  }
}

// A plan on the siblings' snapshot figures, then again with the donors it
// picked read fresh (their usage decides their floor), until it picks no
// stale one: each round reads at least one sibling, so this ends, in
// practice after 1-2 rounds.
policy::Plan Daemon::plan_with_fresh_donors(policy::Incident& in, std::set<std::string>& fresh) {
  auto plan = policy::plan(in, params_, hist_);
  for (size_t round = 0; round <= in.siblings.size(); ++round) {
    bool stale = false;
    for (const auto& a : plan.adjustments) {
      if (a.receiver || fresh.count(a.path)) continue;
      for (auto& sib : in.siblings)
        if (sib.path == a.path) sib = state(a.path);
      fresh.insert(a.path);
      stale = true;
    }
    if (!stale) break;
    plan = policy::plan(in, params_, hist_);
  }
  return plan;
}

void Daemon::incident(policy::TriggerKind kind, const std::string& path, uint64_t victim_rss, uint64_t usage_now,
                      int64_t signal_mono_ns, const char* from) {
  auto kit = kids_.find(path);
  if (kit == kids_.end()) return;
  const std::string& root = kit->second.root;
  policy::Incident in;
  in.trigger.kind = kind;
  in.trigger.cgroup = path;
  in.trigger.victim_rss_bytes = victim_rss;
  in.trigger.now_ns = mono_ns();
  in.trigger.growth_bytes_per_s = window_.growth_rate(path, in.trigger.now_ns, usage_now, kGrowthLookbackNs);
  count_trigger(kit->second, in.trigger.now_ns, signal_mono_ns);
  in.receiver = state(path);
  in.parent = state(root);
  // Physical reservation with room under the parent: siblings play no part
  // (no donor is needed, and only strict mode sums their limits), so the
  // plan is made without them first and made again with them only when the
  // parent's headroom falls short. The result is the plan with siblings,
  // without a thousand idle siblings' figures on the way to the limit write.
  policy::Plan plan;
  bool planned = false;
  if (params_.reservation == policy::Reservation::physical) {
    plan = policy::plan(in, params_, hist_);
    planned = plan.need_bytes == 0 || plan.headroom_bytes >= plan.need_bytes;
  }
  if (!planned) {
    std::set<std::string> fresh;
    gather_siblings(in, root, path, fresh);
    plan = plan_with_fresh_donors(in, fresh);
  }
  const int64_t t_planned = mono_ns();
  int64_t t_audited = t_planned, t_applied = t_planned;
  bool dry = !cfg_.enforce;
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  if (plan.adjustments.empty() && kind == policy::TriggerKind::pressure) {
    // Pressure repeats every snapshot while a cgroup is throttled: the first
    // refusal of an incident is audited, the rest only logged at debug.
    bool first = kit->second.inc.last_refusal.empty();
    kit->second.inc.last_refusal = std::string(policy::to_string(plan.result)) + ": " + plan.reason;
    spdlog::debug("{}: pressure, nothing to do ({}: {})", path, policy::to_string(plan.result), plan.reason);
    if (!first) return;
    auto rec = policy::audit_record(plan, in.trigger, dry, wall_ns(), "");
    if (auto s = append_line_fsync(cfg_.audit_log, json_line(rec)); !s)
      spdlog::error("audit log {}: {}", cfg_.audit_log, s.error().message());
    if (metrics_) metrics_->action(kind, policy::to_string(plan.source), policy::to_string(plan.result), -1, false);
    return;
  }
  std::string result;
  std::string plan_id = std::to_string(::getpid()) + "-" + std::to_string(++plan_seq_);
  // A change is audited before it is made: the "pending" line is written
  // before the first limit write, so an agent killed in between still leaves
  // a record. It is not fsynced here: an fsync costs milliseconds on the
  // path from the kernel's signal to the limit write, and the page cache
  // already keeps the line past the agent's death (a power cut resets the
  // cgroups too). The result line's fsync below makes both durable. An audit
  // log that cannot be written refuses the plan: no unaudited change.
  bool audit_refused = false;
  bool given = dry;  // the plan took effect (a dry run counts as if it had)
  if (!dry && !plan.adjustments.empty()) {
    auto pending = policy::audit_record(plan, in.trigger, dry, wall_ns(), "pending");
    pending["plan_id"] = plan_id;
    if (auto s = append_line(cfg_.audit_log, json_line(pending)); !s) {
      spdlog::error("{}: plan not applied: the audit log cannot be written ({})", path, s.error().message());
      audit_refused = true;
      result = "refused_audit";
    }
    fault_point("plan_audited");
    t_audited = mono_ns();
  }
  if (!dry && !plan.adjustments.empty() && !audit_refused) {
    std::vector<actuate::LimitChange> changes;
    for (const auto& a : plan.adjustments)
      changes.push_back({a.path, a.old_limit_bytes, a.new_limit_bytes, a.receiver});
    auto r = act_.apply(changes);
    t_applied = mono_ns();
    // v2 donors whose usage did not fit under their new limit were skipped
    // (actuate/apply.hpp): the plan as applied gives less, and says why.
    if (r.ok && !r.skipped.empty()) {
      for (size_t i = 0; i < r.skipped.size(); ++i) {
        const auto& sk = r.skipped[i];
        std::erase_if(plan.adjustments, [&](const policy::Adjustment& a) { return !a.receiver && a.path == sk.cgroup; });
        skipped.push_back({{"name", sk.cgroup}, {"reason", i < r.skip_reasons.size() ? r.skip_reasons[i] : ""}});
      }
      plan.added_bytes -= std::min(plan.added_bytes, r.withheld_bytes);
      for (auto& a : plan.adjustments)
        if (a.receiver) a.new_limit_bytes = a.old_limit_bytes + plan.added_bytes;
      if (plan.added_bytes == 0) plan.adjustments.clear();
      if (plan.result == policy::Outcome::planned) plan.result = policy::Outcome::insufficient;
      plan.reason += "; " + std::to_string(r.skipped.size()) + " donor(s) skipped: usage above the new limit";
    }
    // v2: the guards follow the new limits at once, before the audit's fsync
    // (the receiver is throttled at its old memory.high until then). A
    // lowered donor's memory.high was left at its new limit by the actuator:
    // that is still oomwatch's guard, re-derived here.
    for (const auto& a : r.applied) {
      auto it = kids_.find(a.cgroup);
      if (it == kids_.end()) continue;
      it->second.last_limit = a.new_limit_bytes;
      if (!it->second.guard_bytes) continue;
      if (!a.receiver)
        if (auto hb = h_.high(a.cgroup); hb && *hb == a.new_limit_bytes) it->second.guard_bytes = *hb;
      update_guard(it->second);
    }
    // The hints follow the new limits (and guards) on the worker thread (agent/hint_worker.hpp).
    if (hints_)
      for (const auto& a : plan.adjustments) hints_->refresh(a.path);
    if (r.ok)
      result = plan.result == policy::Outcome::planned ? "applied" : policy::to_string(plan.result);
    else
      result = r.rolled_back ? "rolled_back" : "failed";
    if (!r.ok) spdlog::error("{}: plan not applied: {}", path, r.error);
    given = r.ok;
  }
  if (given) hist_ = policy::record(hist_, plan, in.trigger.now_ns);
  int64_t done = mono_ns();
  {
    auto& inc = kit->second.inc;
    bool gave = given && plan.added_bytes > 0;
    if (gave) {
      inc.grants++;
      inc.granted_bytes += plan.added_bytes;
    }
    if (!gave)
      inc.last_refusal = (result.empty() ? std::string(policy::to_string(plan.result)) : result) + ": " + plan.reason;
  }
  auto rec = policy::audit_record(plan, in.trigger, dry, wall_ns(), result);
  if (kind == policy::TriggerKind::oom_kill) rec["incident"] = incident_summary(kit->second, done);
  if (!skipped.empty()) rec["skipped_donors"] = skipped;
  if (!dry && !plan.adjustments.empty()) rec["plan_id"] = plan_id;
  if (signal_mono_ns > 0 && signal_mono_ns <= done) {
    rec["latency_us"] = (done - signal_mono_ns) / 1000;
    rec["latency_from"] = from;
    // Where the time went: kernel signal -> this decision starting (wake-up,
    // reading the cgroup), the decision (state of receiver, parent and
    // siblings, plan), the pending audit line, the intent file and the limit
    // writes with their read-back.
    if (!dry && !plan.adjustments.empty() && signal_mono_ns <= in.trigger.now_ns)
      rec["latency_parts_us"] = {{"wakeup", (in.trigger.now_ns - signal_mono_ns) / 1000},
                                 {"decide", (t_planned - in.trigger.now_ns) / 1000},
                                 {"audit", (t_audited - t_planned) / 1000},
                                 {"apply", (t_applied - t_audited) / 1000}};
  }
  if (auto s = append_line_fsync(cfg_.audit_log, json_line(rec)); !s)
    spdlog::error("audit log {}: {}", cfg_.audit_log, s.error().message());
  // trace_on_incident: after an OOM kill, a v1 pause, or a grant under pressure (a rescue)
  if (itrace_ && (kind != policy::TriggerKind::pressure || (given && plan.added_bytes > 0)))
    itrace_->trigger(path, policy::to_string(kind), rec["ts"].get<std::string>());
  if (metrics_)
    metrics_->action(kind, policy::to_string(plan.source), result.empty() ? policy::to_string(plan.result) : result,
                     signal_mono_ns > 0 && signal_mono_ns <= done ? done - signal_mono_ns : -1,
                     !dry && given && plan.added_bytes > 0);
  spdlog::info("{} {}: {} {} from {} ({}){}", policy::to_string(kind), path, dry ? "would add" : "added",
               format_size(plan.added_bytes), policy::to_string(plan.source),
               result.empty() ? policy::to_string(plan.result) : result, dry ? " [dry run]" : "");
  if (dry) return;
  // v1: a paused cgroup nobody can give memory to gets its OOM killer now.
  if (kind == policy::TriggerKind::oom_pending && (plan.added_bytes == 0 || audit_refused)) {
    Child& c = kit->second;
    if (h_.set_oom_kill_disable(path, false)) {
      spdlog::warn("{}: no memory to give ({}): the kernel's OOM killer decides", path, plan.reason);
      c.paused = false;
      c.released = true;
    }
  }
}

}  // namespace

Status run_daemon(const DaemonOptions& o) {
  auto h = cg::Hierarchy::discover();
  if (!h) return h.error();
  Daemon d(o, *h);
  Status s;
  try {
    s = d.start();
    if (s) s = d.run();
  } catch (const std::exception& e) {
    s = app_error(std::string("internal error: ") + e.what());
  }
  try {
    d.shutdown();
  } catch (const std::exception& e) {
    spdlog::error("internal error while putting the node back ({}); the guardian or 'oomwatch restore' finishes it",
                  e.what());
  }
  return s;
}

Result<RestoreReport> restore_state(const StatePaths& paths, int64_t wait_ms) {
  auto h = cg::Hierarchy::discover();
  if (!h) return h.error();
  if (auto s = mkdir_p(paths.state_dir); !s) return s.error();
  auto lock = AgentLock::acquire(paths.lock_file(), std::chrono::milliseconds(wait_ms));
  if (!lock) return lock.error();
  return restore_node(*h, paths);
}

}  // namespace ow::agent
