#include "agent/daemon_impl.hpp"
#include "agent/stop_line.hpp"
#include "k8s/event_identity.hpp"

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
  incidents_.reset();  // no decision from here on
  snapper_.reset();  // no snapshot from here on; the sampler is the loop's again
  StopCounts put_back;
  if (hints_) {
    put_back.hints_on = true;
    auto s = hints_->stop();
    put_back.hints = hints_->withdrawn();
    if (!s) {
      spdlog::warn("GOMEMLIMIT hints: {}", s.error().message());
      put_back.hints_error = s.error().message();
    }
  }
  if (!journal_.empty()) {
    auto n = journal_.restore_by_kind(h_);
    if (!n) {
      spdlog::error("could not restore settings: {}; run 'oomwatch restore'", n.error().message());
      put_back.settings_left = journal_.size();
      put_back.settings_error = n.error().message();
    } else {
      put_back.oom_kill_disable = n->oom_kill_disable;
      put_back.memory_high = n->memory_high;
    }
  }
  if (pinned_) loader_->unpin_maps();
  donor_hist_.reset();
  store_recommendations();  // what the worker queued; a round still running is dropped with it
  recs_.reset();
  itrace_.reset();  // a running trace ends now and writes its line
  if (history_) history_->stop(wall_ns());  // what is queued, then a last maintain
  ::unlink(paths_.ready_file().c_str());
  if (guardian_) guardian_->stop();
  // One line saying what was put back, last: nothing is changed after it.
  // A start refused before BPF was loaded changed nothing and already said
  // why in its one error line: no stop line under it.
  bool nothing = !put_back.oom_kill_disable && !put_back.memory_high && !put_back.hints && !put_back.settings_left &&
                 put_back.hints_error.empty();
  if (!loader_ && nothing) return;
  if (put_back.settings_left || !put_back.hints_error.empty())
    spdlog::error("{}", stop_line(put_back));
  else
    spdlog::info("{}", stop_line(put_back));
}

void Daemon::on_kill(const bpf::OomKill& k) {
  Child* kid = kids_ ? kids_->owner_of(k.cgroup) : nullptr;
  auto ev = bpf::to_json(k);
  // Who was killed: a Kubernetes container or a runtime's container. The
  // names the snapshot thread keeps (no I/O on this thread); the log tree is
  // read here only for a Kubernetes cgroup they do not name yet (born since
  // the last snapshot, or snapshots on this thread, which learn no names).
  k8s::EventIdentity who = names_ ? names_->lookup(k.cgroup) : k8s::EventIdentity{};
  bool unnamed = who.kube && (who.kube->ns.empty() || (!who.kube->id.container_id.empty() && who.kube->container.empty()));
  if (!names_ || unnamed)
    who = k8s::identify_reading(k.cgroup, cfg_.recommend_pods_log_dir.empty() ? k8s::kDefaultLogDir
                                                                              : cfg_.recommend_pods_log_dir);
  k8s::add_identity(ev, who);
  // A managed child killed anyway: the event says what oomwatch tried.
  if (kid && incidents_) ev["oomwatch"] = incidents_->kill_summary(*kid, mono_ns());
  std::string line = json_line(ev) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  report_drops();
  if (metrics_) metrics_->kill(k.raw.limit_memcg_id == 0);
  // The kernel's usage at the kill: what `recommend` floors the limit on
  // (a later sample sees the memory the kill freed).
  if (history_)
    history_->kill({k.wall_ns, k.limit_cgroup, k.cgroup, k.raw.limit_usage_bytes, k.raw.limit_max_bytes,
                    static_cast<int64_t>(k.raw.tgid), (k.raw.flags & OW_OOM_LIMIT_MEMSW) != 0});
  if (kid && incidents_) incidents_->oom_kill(*kid, k);
}

void Daemon::on_child_gone(const std::string& path) {
  window_.forget(path);
  if (incidents_) incidents_->forget(path);
}

void Daemon::tell_donor_history() {
  if (!donor_hist_) return;
  std::vector<std::string> live;
  live.reserve(kids_->all().size());
  for (const auto& [p, c] : kids_->all()) live.push_back(p);
  if (live == donor_live_) return;
  donor_live_ = std::move(live);
  donor_hist_->set_live(donor_live_);
}

// Events the kernel could not queue are said, never lost silently: a warning
// and a {"type":"drops"} line on the event stream, as `oomwatch events` does.
void Daemon::report_drops() {
  uint64_t d = oom_->drops();
  if (d == drops_seen_) return;
  drops_seen_ = d;
  spdlog::warn("ring buffer full: {} OOM events lost so far", d);
  std::string line = json_line(nlohmann::ordered_json{{"type", "drops"}, {"count", d}}) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void Daemon::on_tick() {
  report_drops();
  kids_->refresh();
  tell_donor_history();
  on_snapshot(sampler::take_snapshot(*sampler_));
}

void Daemon::on_snapshot_ready() {
  auto t = snapper_->take();
  if (!t) return;
  report_drops();
  kids_->refresh();
  tell_donor_history();
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
  if (metrics_)
    metrics_->snapshot(snap, t.took_ns, oom_->drops(), t.interval_ns ? t.interval_ns : cfg_.interval_ns, t.cpu_used);
  if (history_) {
    history_->snapshot(snap);
    store_recommendations();
  }
  if (kids_->empty()) return;
  std::vector<std::tuple<const Child*, uint64_t, uint64_t>> signalled;  // child, usage, limit
  for (auto& [p, c] : kids_->all()) {
    auto it = t.index->find(p);
    if (it == t.index->end()) continue;
    const auto& s = snap->samples[it->second];
    window_.add(p, now, s.usage_bytes);
    if (kids_->observe(c, s)) signalled.emplace_back(&c, s.usage_bytes, s.limit_bytes);
  }
  window_.prune(now);
  // After the pass: an incident may read its siblings' figures from this snapshot.
  for (const auto& [c, usage, limit] : signalled) incidents_->limit_signal(*c, usage, limit, now);
}

}  // namespace detail

using detail::Daemon;

Status run_daemon(const DaemonOptions& o, bool* fix_named) {
  auto h = cg::Hierarchy::discover();
  if (!h) return h.error();
  Daemon d(o, *h);
  Status s;
  try {
    s = d.start();
    if (!s && fix_named) *fix_named = d.fix_named();
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
