#include "agent/daemon_impl.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace ow::agent {
namespace detail {

failsafe::StatePaths state_paths(const DaemonOptions& o) {
  failsafe::StatePaths p;
  p.state_dir = o.state_dir;
  p.pin_dir = o.pin_dir;
  p.audit_log = o.cfg.audit_log;
  return p;
}

uint64_t Daemon::guard_distance(uint64_t limit) const {
  policy::GuardParams g;
  return std::max<uint64_t>(g.guard_bytes, static_cast<uint64_t>(g.guard_fraction * static_cast<double>(limit)));
}

Status Daemon::start() {
  if (auto s = mkdir_p(o_.state_dir); !s) return s;
  if (auto s = check_state_dir(o_.state_dir); !s) return s;
  auto lock = failsafe::AgentLock::acquire(paths_.lock_file(), std::chrono::milliseconds(o_.lock_wait_ms));
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  // Crash recovery first: nothing of a previous run may stay paused, throttled or hinted.
  auto rr = failsafe::restore_node(h_, paths_);
  if (rr.total() > 0)
    spdlog::warn("a previous run left the node changed: restored {} setting(s), {} limit(s), {} GOMEMLIMIT "
                 "hint(s), {} pin(s)",
                 rr.settings, rr.limits, rr.hints, rr.pins);
  if (!rr.problems.empty()) return app_error("could not put back what a previous run left: " + rr.problems.front());
  if (auto s = journal_.load(); !s) return s;
  for (const auto& w : failsafe::protect_self()) spdlog::warn("self-protection: {}", w);
  // This thread runs the loop; threads started from here on start normal (util/sched.hpp).
  if (auto pr = raise_thread_priority(cfg_.loop_priority); !pr.warning.empty())
    spdlog::warn("event loop priority: {}", pr.warning);
  spdlog::debug("event loop priority: {}", thread_priority_text());
  // Before the first change to the node: whatever ends the agent, the guardian puts it back.
  if (cfg_.enforce || o_.hints) {
    auto g = failsafe::Guardian::start(h_, paths_, lock_->fd());
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
  lo.births = rescue_active() && !roots_.empty();  // children armed at birth, not at the next walk
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
    hintsvc::HintOptions ho;
    ho.period_ns = cfg_.gomemlimit_interval_ns;
    ho.roots = roots_;
    ho.loader = loader_.get();
    ho.publish.hint_dir = o_.state_dir + "/gomemlimit";
    // Without a bpffs pin dir the map is skipped (xattr and file only).
    ho.publish.pin_path = (o_.pin_dir.empty() ? o_.state_dir : o_.pin_dir) + "/gomemlimit";
    auto hs = hintsvc::HintRunner::open(h_, ho);
    if (!hs)
      spdlog::warn("no GOMEMLIMIT hints: {}", hs.error().message());
    else
      hints_ = std::move(*hs);
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
    recsvc::RecommendWorkerOptions ro;
    ro.db_path = cfg_.db;
    ro.roots = roots_;
    ro.interval_ns = cfg_.recommend_interval_ns;
    ro.pods_log_dir = cfg_.recommend_pods_log_dir;
    auto rw = recsvc::RecommendWorker::open(ro, h_);
    if (!rw)
      spdlog::warn("no recommendations: {}", rw.error().message());
    else
      recs_ = std::move(*rw);
    if (recs_ && cfg_.recommend_enforce) applier_.emplace(act_, cfg_.audit_log);
  }
  if (auto dir = parent_dir(cfg_.audit_log); !dir.empty())
    if (auto s = mkdir_p(dir); !s) return s;
  // The audit log must be writable (and not a symlink) before any decision is made.
  if (auto s = check_record_file(cfg_.audit_log, "audit log"); !s) return s;
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
  if (rescue_active() && !roots_.empty()) {
    auto t = loop_->add_oneshot([this] { retry_births(); });
    if (!t) return t.error();
    retry_timer_ = *t;
    if (loader_->births_attached()) {
      auto b = BirthWatch::open(*loader_, h_, roots_, [this](const Birth& x) { on_birth(x); });
      if (!b)
        spdlog::warn("new children found by the walk only (up to {} late): {}",
                     format_duration(std::chrono::nanoseconds(cfg_.interval_ns)), b.error().message());
      else
        births_ = std::move(*b);
    }
    if (births_)
      if (auto s = loop_->add_fd(births_->fd(), [this] { on_births(); }); !s) return s;
    arm_roots();
  }
  // After the guardian's fork: the server has a thread of its own.
  if (auto m = exporter::MetricsHooks::start(cfg_, roots_); !m)
    return m.error();
  else
    metrics_ = std::move(*m);
  // The first round before ready; then the hint thread (after the
  // guardian's fork) keeps them current, off the rescue path.
  if (hints_) hints_->start(metrics_ ? metrics_->hint_sink() : hintsvc::HintRunner::RoundSink{});
  // After the guardian's fork: the writer has a thread of its own.
  if (db_) {
    history_ = std::make_unique<store::HistoryWriter>(std::move(*db_));
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
  if (auto w = sampler::SnapshotWorker::start(*sampler_, cfg_.interval_ns); w) {
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
    std::erase_if(rec_limits_, [&](const auto& e) { return !h_.id_of(e.first); });  // gone: no series to export
    metrics_->server().publish_recommendations(std::make_shared<const exporter::RecommendationTable>(rec_limits_));
  }
  for (const auto& f : fresh)
    spdlog::info("recommendation for {}: request {} limit {} ({} confidence): {}", f.name,
                 recommend::quantity(f.row.request_bytes), recommend::quantity(f.row.limit_bytes), f.row.confidence,
                 f.row.rationale);
  if (applier_)
    for (const auto& f : fresh) enforce_recommendation(f);
}

// Only --manage children; Kubernetes-owned ones are refused by the step itself.
void Daemon::enforce_recommendation(const recsvc::NewRecommendation& f) {
  auto it = kids_.find(f.row.path);
  if (it == kids_.end()) return;
  Child& c = it->second;
  auto u = h_.read(c.path);
  if (!u) return;
  auto pol = config::cgroup_policy(cfg_, c.path);
  recsvc::RecommendApplier::Target t{u->limit_bytes, u->usage_bytes, pol.floor_bytes, pol.ceiling_bytes,
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
  auto j = unplanned_record(c.path, "oom_kill", result, reason);
  j["limit_cgroup"] = limit_cgroup;
  j["global"] = limit_cgroup.empty();
  j["incident"] = incident_summary(c, now);
  append_audit(j);
  if (itrace_) itrace_->trigger(c.path, "oom_kill", j["ts"].get<std::string>());
  if (metrics_) metrics_->action(policy::TriggerKind::oom_kill, "none", result, -1, false);
  spdlog::info("oom_kill {}: {}", printable(c.path), reason);
}

nlohmann::ordered_json Daemon::unplanned_record(const std::string& path, const char* trigger,
                                                const std::string& result, const std::string& reason) const {
  nlohmann::ordered_json j;
  j["oom_cgroup"] = path;
  j["added_memory"] = 0;
  j["adjusted_cgroups"] = nlohmann::ordered_json::array();
  j["ts"] = policy::rfc3339_ms(wall_ns());
  j["trigger"] = trigger;
  j["source"] = "none";
  j["dry_run"] = !cfg_.enforce;
  j["result"] = result;
  j["reason"] = reason;
  return j;
}

void Daemon::append_audit(const nlohmann::ordered_json& j) const {
  if (auto s = append_line_fsync(cfg_.audit_log, json_line(j)); !s)
    spdlog::error("audit log {}: {}", cfg_.audit_log, s.error().message());
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
  sweep_descendants();
  on_snapshot(sampler::take_snapshot(*sampler_));
}

void Daemon::on_snapshot_ready() {
  auto t = snapper_->take();
  if (!t) return;
  report_drops();
  refresh_children();
  sweep_descendants();
  on_snapshot(*t);
}

void Daemon::on_snapshot(const sampler::TakenSnapshot& t) {
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

}  // namespace detail

using detail::Daemon;

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

Result<failsafe::RestoreReport> restore_state(const failsafe::StatePaths& paths, int64_t wait_ms) {
  auto h = cg::Hierarchy::discover();
  if (!h) return h.error();
  if (auto s = mkdir_p(paths.state_dir); !s) return s.error();
  if (auto s = check_state_dir(paths.state_dir); !s) return s.error();
  auto lock = failsafe::AgentLock::acquire(paths.lock_file(), std::chrono::milliseconds(wait_ms));
  if (!lock) return lock.error();
  return failsafe::restore_node(*h, paths);
}

}  // namespace ow::agent
