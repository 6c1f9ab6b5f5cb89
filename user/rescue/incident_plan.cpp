// An incident's decision: the receiver, its parent and (when the parent's
// headroom falls short) its siblings read, a plan (policy::plan), the plan
// audited as pending, the limits written and read back, and the result line
// (rescue/incidents.hpp).
#include <unistd.h>

#include <algorithm>

#include "rescue/donor_history.hpp"
#include "trace/incident_trace.hpp"
#include "rescue/incidents.hpp"
#include "exporter/hooks.hpp"
#include "hintsvc/runner.hpp"
#include "policy/audit.hpp"
#include "util/clock.hpp"
#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::rescue {

namespace {
// Growth rate over the snapshots of the last seconds.
constexpr int64_t kGrowthLookbackNs = 5'000'000'000;
}  // namespace

policy::CgroupState Incidents::state(const std::string& path) {
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

policy::WindowFigures Incidents::figures(const std::string& path) const {
  int64_t now = mono_ns();
  policy::WindowFigures f = window_.figures(path, now);
  // History from the database (1 h by default) decides a donor's median and
  // p95; the live window adds the minutes since its last refresh.
  if (svc_.donors)
    if (auto d = svc_.donors->get(path)) {
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

// The siblings of path under root into in.siblings: from the last snapshot,
// or read now for a child not seen in one yet. The directory is listed (one
// getdents) so a child created since the last snapshot still counts in
// strict mode's sum of limits. Limits change only by plans (kept current in
// kids_) or by an operator.
void Incidents::gather_siblings(policy::Incident& in, const std::string& root, const std::string& path,
                             std::set<std::string>& fresh) {
  for (const auto& [sp, id] : children(h_, root)) {
    if (sp == path) continue;
    const Child* k = kids_.find(sp);
    if (!k || !k->seen) {
      in.siblings.push_back(state(sp));
      fresh.insert(sp);
      continue;
    }
    const Child& sc = *k;
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
policy::Plan Incidents::plan_with_fresh_donors(policy::Incident& in, std::set<std::string>& fresh) {
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

// The limit writes of a plan audited as pending, read back (actuate::Actuator).
// v2 donors whose usage did not fit under their new limit were skipped
// (actuate/apply.hpp): the plan as applied gives less, and says why.
Incidents::Applied Incidents::apply(policy::Plan& plan, const std::string& path) {
  std::vector<actuate::LimitChange> changes;
  for (const auto& a : plan.adjustments)
    changes.push_back({a.path, a.old_limit_bytes, a.new_limit_bytes, a.receiver});
  auto r = act_.apply(changes);
  Applied out;
  out.ok = r.ok;
  if (r.ok && !r.skipped.empty()) {
    for (size_t i = 0; i < r.skipped.size(); ++i) {
      const auto& sk = r.skipped[i];
      std::erase_if(plan.adjustments, [&](const policy::Adjustment& a) { return !a.receiver && a.path == sk.cgroup; });
      out.skipped.push_back({{"name", sk.cgroup}, {"reason", i < r.skip_reasons.size() ? r.skip_reasons[i] : ""}});
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
    Child* moved = kids_.find(a.cgroup);
    if (!moved) continue;
    moved->last_limit = a.new_limit_bytes;
    if (!moved->guard_bytes) continue;
    if (!a.receiver)
      if (auto hb = h_.high(a.cgroup); hb && *hb == a.new_limit_bytes) moved->guard_bytes = *hb;
    kids_.update_guard(*moved);
  }
  // The hints follow the new limits (and guards) on the worker thread (hintsvc/runner.hpp).
  if (svc_.hints)
    for (const auto& a : plan.adjustments) svc_.hints->refresh(a.path);
  if (r.ok)
    out.result = plan.result == policy::Outcome::planned ? "applied" : policy::to_string(plan.result);
  else
    out.result = r.rolled_back ? "rolled_back" : "failed";
  // A cgroup of the plan removed between the decision and the write (a
  // container that exited) is churn, not a fault: the audit says failed
  // (or rolled_back), the log says why at info.
  bool gone = std::any_of(plan.adjustments.begin(), plan.adjustments.end(),
                          [&](const auto& a) { return !h_.id_of(a.path); });
  if (!r.ok && gone)
    spdlog::info("{}: plan not applied, a cgroup in it is gone ({})", path, r.error);
  else if (!r.ok)
    spdlog::error("{}: plan not applied: {}", path, r.error);
  return out;
}

void Incidents::incident(policy::TriggerKind kind, const std::string& path, uint64_t victim_rss, uint64_t usage_now,
                      int64_t signal_mono_ns, const char* from) {
  Child* kid = kids_.find(path);
  if (!kid) return;
  const std::string& root = kid->root;
  policy::Incident in;
  in.trigger.kind = kind;
  in.trigger.cgroup = path;
  in.trigger.victim_rss_bytes = victim_rss;
  in.trigger.now_ns = mono_ns();
  in.trigger.growth_bytes_per_s = window_.growth_rate(path, in.trigger.now_ns, usage_now, kGrowthLookbackNs);
  count_trigger((*kid), in.trigger.now_ns, signal_mono_ns);
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
    bool first = kid->inc.last_refusal.empty();
    kid->inc.last_refusal = std::string(policy::to_string(plan.result)) + ": " + plan.reason;
    spdlog::debug("{}: pressure, nothing to do ({}: {})", path, policy::to_string(plan.result), plan.reason);
    if (!first) return;
    auto rec = policy::audit_record(plan, in.trigger, dry, wall_ns(), "");
    add_names(rec, path);
    append_audit(rec);
    if (svc_.metrics) svc_.metrics->action(kind, policy::to_string(plan.source), policy::to_string(plan.result), -1, false);
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
    add_names(pending, path);
    if (auto s = append_line(cfg_.audit_log, json_line(pending)); !s) {
      spdlog::error("{}: plan not applied: the audit log cannot be written ({})", path, s.error().message());
      audit_refused = true;
      result = "refused_audit";
    }
    fault_point("plan_audited");
    t_audited = mono_ns();
  }
  if (!dry && !plan.adjustments.empty() && !audit_refused) {
    auto applied = apply(plan, path);
    t_applied = mono_ns();
    result = applied.result;
    skipped = std::move(applied.skipped);
    given = applied.ok;
  }
  if (given) hist_ = policy::record(hist_, plan, in.trigger.now_ns);
  int64_t done = mono_ns();
  {
    auto& inc = kid->inc;
    bool gave = given && plan.added_bytes > 0;
    if (gave && !dry) {
      inc.grants++;
      inc.granted_bytes += plan.added_bytes;
    } else if (gave) {  // observe-only: nothing was given, say what would have been
      inc.would_grants++;
      inc.would_grant_bytes += plan.added_bytes;
    }
    if (!gave)
      inc.last_refusal = (result.empty() ? std::string(policy::to_string(plan.result)) : result) + ": " + plan.reason;
  }
  auto rec = policy::audit_record(plan, in.trigger, dry, wall_ns(), result);
  add_names(rec, path);
  if (kind == policy::TriggerKind::oom_kill) rec["incident"] = summary(*kid, done);
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
  if (svc_.trace && (kind != policy::TriggerKind::pressure || (given && plan.added_bytes > 0)))
    svc_.trace->trigger(path, policy::to_string(kind), rec["ts"].get<std::string>());
  if (svc_.metrics)
    svc_.metrics->action(kind, policy::to_string(plan.source), result.empty() ? policy::to_string(plan.result) : result,
                     signal_mono_ns > 0 && signal_mono_ns <= done ? done - signal_mono_ns : -1,
                     !dry && given && plan.added_bytes > 0);
  spdlog::info("{} {}: {} {} from {} ({}){}", policy::to_string(kind), path, dry ? "would add" : "added",
               format_size(plan.added_bytes), policy::to_string(plan.source),
               result.empty() ? policy::to_string(plan.result) : result, dry ? " [dry run]" : "");
  if (dry) return;
  // v1: a paused cgroup nobody can give memory to gets its OOM killer now.
  if (kind == policy::TriggerKind::oom_pending && (plan.added_bytes == 0 || audit_refused) && kids_.release(*kid))
    spdlog::warn("{}: no memory to give ({}): the kernel's OOM killer decides", printable(path), plan.reason);
}

}  // namespace ow::rescue
