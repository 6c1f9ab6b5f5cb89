// An incident: a kernel signal (v1 under_oom, v2 memory.events, an OOM
// kill) or a sample short of memory, turned into a plan, limits written and
// read back, and an audit line.
#include "agent/daemon_impl.hpp"

#include <algorithm>

namespace ow::agent::detail {

// At its limit with little the kernel can reclaim: usage minus the file LRU
// pages is within the guard of the limit. A cgroup full of page cache is not
// short of memory (the kernel drops cache); growing its limit for every
// reclaim would feed the cache forever.
uint64_t Daemon::file_cache_bytes(const std::string& path) const {
  auto st = h_.stat(path);
  if (!st) return 0;
  auto get = [&](const char* k) {
    auto it = st->find(k);
    return it == st->end() ? uint64_t{0} : it->second;
  };
  if (h_.version() == cg::Version::V1) return get("total_inactive_file") + get("total_active_file");
  return get("inactive_file") + get("active_file");
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
  rearm_roots();
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
    Child& c = it->second;
    update_guard(c);  // memory.max may have changed (a runtime setting it just after mkdir)
    auto ev = h_.events(p);
    if (!ev) continue;
    bool grew = ev->high > c.last_high_events || ev->max > c.last_failcnt;
    c.last_high_events = ev->high;
    c.last_failcnt = ev->max;
    const char* from = "wakeup";
    if (grew) {
      auto u = h_.read(p);
      if (!u) continue;
      // Throttled at the memory.high guard, the kernel holds usage near the
      // guard, so that is the limit to measure against. With no limit at all
      // nothing is short: memory.stat is not read.
      const uint64_t limit = c.guard_bytes ? c.guard_bytes : u->limit_bytes;
      if (limit == kUnlimited || !policy::short_of_memory(u->usage_bytes, file_cache_bytes(p), limit)) continue;
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
    append_audit(rec);
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
    // The hints follow the new limits (and guards) on the worker thread (hintsvc/runner.hpp).
    if (hints_)
      for (const auto& a : plan.adjustments) hints_->refresh(a.path);
    if (r.ok)
      result = plan.result == policy::Outcome::planned ? "applied" : policy::to_string(plan.result);
    else
      result = r.rolled_back ? "rolled_back" : "failed";
    // A cgroup of the plan removed between the decision and the write (a
    // container that exited) is churn, not a fault: the audit says failed
    // (or rolled_back), the log says why at info.
    bool gone = std::any_of(plan.adjustments.begin(), plan.adjustments.end(),
                            [&](const auto& a) { return !h_.id_of(a.path); });
    if (!r.ok && gone)
      spdlog::info("{}: plan not applied, a cgroup in it is gone ({})", path, r.error);
    else if (!r.ok)
      spdlog::error("{}: plan not applied: {}", path, r.error);
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
  append_audit(rec);
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

}  // namespace ow::agent::detail
