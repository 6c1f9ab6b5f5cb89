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
    const policy::ChildLook look{c.seen,   s.usage_bytes, s.limit_bytes,     s.failcnt,
                                 c.last_failcnt, s.ev_high, c.last_high_events, c.guard_bytes != 0};
    if (cfg_.rescue && policy::limit_signal(look) &&
        policy::short_of_memory(s.usage_bytes, file_cache_bytes(p), s.limit_bytes))
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
