// Incidents: what starts one (an OOM kill, a v1 pause, v2 memory.events,
// a snapshot's limit signal), the v1 pause deadline, and the audit lines of
// triggers no plan answers (rescue/incidents.hpp). The plan itself is
// incident_plan.cpp's.
#include "rescue/incidents.hpp"


#include <algorithm>

#include "trace/incident_trace.hpp"
#include "bpf/loader.hpp"
#include "exporter/hooks.hpp"
#include "k8s/name_cache.hpp"
#include "policy/audit.hpp"
#include "policy/pressure.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::rescue {

Incidents::Incidents(const cg::Hierarchy& h, const config::Config& cfg, policy::Params params,
                     actuate::Actuator& act, UsageWindow& window, ManagedChildren& kids, IncidentServices svc)
    : h_(h), cfg_(cfg), params_(std::move(params)), act_(act), window_(window), kids_(kids), svc_(svc) {}

void Incidents::forget(const std::string& path) { hist_.last.erase(path); }

void Incidents::oom_kill(Child& kid, const bpf::OomKill& k) {
  const auto& r = k.raw;
  // Raising the child helps only when its own limit was hit.
  if (r.limit_memcg_id == 0) {
    audit_unplanned(kid, "global",
                    "no cgroup was at its limit: the machine is out of memory, no limit to move");
    return;
  }
  if (!k.limit_cgroup.empty() && k.limit_cgroup != kid.path) {
    if (cg::is_under(kid.path, k.limit_cgroup))
      audit_unplanned(kid, "parent_limit",
                      "the allocation hit the limit of " + k.limit_cgroup +
                          " (the managed parent or above): raising a child cannot help",
                      k.limit_cgroup);
    else
      audit_unplanned(kid, "below_child",
                      "the allocation hit the limit of " + k.limit_cgroup +
                          ", below the managed child: oomwatch moves only the children's limits",
                      k.limit_cgroup);
    return;
  }
  incident(policy::TriggerKind::oom_kill, kid.path, r.anon_rss_bytes + r.file_rss_bytes + r.shmem_rss_bytes,
           h_.usage(kid.path).value_or(0), static_cast<int64_t>(r.ts_ns), "kernel");
}

// An OOM kill in a managed child that no limit move can answer: one audit
// line saying why, nothing changed.
void Incidents::audit_unplanned(Child& c, const std::string& result, const std::string& reason,
                             const std::string& limit_cgroup) {
  int64_t now = mono_ns();
  count_trigger(c, now, 0);
  c.inc.last_refusal = result + ": " + reason;
  auto j = unplanned_record(c.path, "oom_kill", result, reason);
  j["limit_cgroup"] = limit_cgroup;
  j["global"] = limit_cgroup.empty();
  j["incident"] = summary(c, now);
  append_audit(j);
  if (svc_.trace) svc_.trace->trigger(c.path, "oom_kill", j["ts"].get<std::string>());
  if (svc_.metrics) svc_.metrics->action(policy::TriggerKind::oom_kill, "none", result, -1, false);
  spdlog::info("oom_kill {}: {}", printable(c.path), reason);
}

nlohmann::ordered_json Incidents::unplanned_record(const std::string& path, const char* trigger,
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
  add_names(j, path);
  return j;
}

void Incidents::add_names(nlohmann::ordered_json& j, const std::string& path) const {
  if (svc_.names) k8s::add_identity(j, svc_.names->lookup(path));
}

void Incidents::append_audit(const nlohmann::ordered_json& j) const {
  if (auto s = append_line_fsync(cfg_.audit_log, json_line(j)); !s)
    spdlog::error("audit log {}: {}", cfg_.audit_log, s.error().message());
}

// At its limit with little the kernel can reclaim: usage minus the file LRU
// pages is within the guard of the limit. A cgroup full of page cache is not
// short of memory (the kernel drops cache); growing its limit for every
// reclaim would feed the cache forever.
uint64_t Incidents::file_cache_bytes(const std::string& path) const {
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
int64_t Incidents::kernel_signal(const std::string& path, int64_t t0, const char*& from) const {
  if (!svc_.loader) return t0;
  if (auto id = h_.id_of(path))
    if (auto st = svc_.loader->reclaim_stat(*id))
      if (auto last = static_cast<int64_t>(st->last_ns); last <= t0 && t0 - last < 1'000'000'000) {
        from = "kernel";
        return last;
      }
  return t0;
}

void Incidents::paused(const std::string& path) {
  Child* found = kids_.find(path);
  if (!found || !found->v1) return;
  int64_t t0 = mono_ns();
  found->v1->drain();
  auto ev = h_.events(path);
  if (!ev) {
    // The kernel signals a v1 OOM eventfd when its cgroup is removed too:
    // let go of the child now, not at the next snapshot (which a CPU budget
    // may have put a minute away).
    kids_.drop_if_gone(path);
    return;
  }
  if (!ev->under_oom) return;
  Child& c = *found;
  if (!c.paused) {
    c.paused = true;
    c.paused_since_ns = t0;
  }
  const char* from = "wakeup";
  int64_t signal = kernel_signal(path, t0, from);
  incident(policy::TriggerKind::oom_pending, path, 0, h_.usage(path).value_or(0), signal, from);
}

void Incidents::check_paused() {
  int64_t now = mono_ns();
  kids_.rearm_roots();
  for (auto& [p, c] : kids_.all()) {
    if (!c.paused) continue;
    auto ev = h_.events(p);
    if (!ev || !ev->under_oom) {
      c.paused = false;
      continue;
    }
    if (now - c.paused_since_ns < cfg_.v1_pause_deadline_ns) continue;
    const int64_t paused_ns = now - c.paused_since_ns;
    if (!kids_.release(c)) continue;
    spdlog::warn("{} paused for {} without memory to give: the kernel's OOM killer decides", printable(p),
                 format_duration(std::chrono::nanoseconds(paused_ns)));
  }
}

void Incidents::v2_events(const std::vector<std::string>& paths) {
  int64_t now = mono_ns();
  for (const auto& p : paths) {
    Child* found = kids_.find(p);
    if (!found) continue;
    Child& c = *found;
    kids_.update_guard(c);  // memory.max may have changed (a runtime setting it just after mkdir)
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

void Incidents::limit_signal(const Child& c, uint64_t usage, uint64_t limit, int64_t now) {
  if (!cfg_.rescue || !policy::short_of_memory(usage, file_cache_bytes(c.path), limit)) return;
  incident(policy::TriggerKind::pressure, c.path, 0, usage, now, "sample");
}

void Incidents::root_released(const std::string& path, int64_t released_us) {
  auto j = unplanned_record(path, "oom_pending", "released",
                            "a managed parent at its own limit: its limit is never raised, the kernel's OOM killer "
                            "decides");
  j["released_us"] = released_us;
  append_audit(j);
  if (svc_.metrics) svc_.metrics->action(policy::TriggerKind::oom_pending, "none", "released", -1, false);
}

void Incidents::count_trigger(Child& c, int64_t now, int64_t signal_ns) {
  if (!in_incident(c, now)) c.inc = {};
  if (c.inc.triggers++ == 0) c.inc.first_signal_ns = signal_ns > 0 ? signal_ns : now;
  c.inc.last_ns = now;
}

nlohmann::json Incidents::summary(const Child& c, int64_t now) const {
  nlohmann::json j = nlohmann::json::object();
  if (!in_incident(c, now)) return j;
  j["triggers"] = c.inc.triggers;
  j["grants"] = c.inc.grants;
  j["granted_bytes"] = c.inc.granted_bytes;
  if (!cfg_.enforce) {
    j["would_grants"] = c.inc.would_grants;
    j["would_grant_bytes"] = c.inc.would_grant_bytes;
  }
  if (!c.inc.last_refusal.empty()) j["last_refusal"] = c.inc.last_refusal;
  if (c.inc.first_signal_ns > 0 && c.inc.first_signal_ns <= now)
    j["since_first_signal_us"] = (now - c.inc.first_signal_ns) / 1000;
  return j;
}

nlohmann::json Incidents::kill_summary(const Child& c, int64_t now) const {
  if (in_incident(c, now)) {
    auto j = summary(c, now);
    j["triggers"] = c.inc.triggers + 1;
    return j;
  }
  Child fresh;
  fresh.inc.triggers = 1;
  fresh.inc.first_signal_ns = fresh.inc.last_ns = now;
  return summary(fresh, now);
}

}  // namespace ow::rescue
