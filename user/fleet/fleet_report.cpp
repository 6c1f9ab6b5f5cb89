#include "fleet/fleet_report.hpp"

#include <algorithm>
#include <cmath>

#include "fleet/aggregate.hpp"
#include "recommend/gate.hpp"
#include "recommend/quantity.hpp"
#include "util/units.hpp"

namespace ow::fleet {
namespace {

std::optional<uint64_t> bytes_of(const std::map<Key, double>& m, const Key& k) {
  auto it = m.find(k);
  if (it == m.end()) return std::nullopt;
  return fleet::bytes_of(it->second);
}

std::string workload_id(const Key& k) { return k.ns + "/" + k.workload; }

uint64_t usage_now(const std::vector<Point>& pts) {
  if (pts.empty()) return 0;
  uint64_t u = 0;
  for (auto it = pts.rbegin(); it != pts.rend() && it->ts_ms == pts.back().ts_ms; ++it) u = std::max(u, fleet::bytes_of(it->value));
  return u;
}

const StoredWorkload* stored(const FleetContext& c, const Key& k) {
  if (!c.state) return nullptr;
  auto it = c.state->workloads.find(workload_id(k));
  return it == c.state->workloads.end() ? nullptr : &it->second;
}

// The stored recommendation wins over a new one within hysteresis of it.
void hold_last(recommend::Report& r, const StoredFigures& last, const recommend::Rules& rules) {
  std::string held;
  if (last.request_bytes && !recommend::passes_hysteresis(last.request_bytes, r.rec.request_bytes, rules) &&
      *last.request_bytes != r.rec.request_bytes) {
    held += "request " + recommend::quantity(*last.request_bytes);
    r.rec.request_bytes = *last.request_bytes;
  }
  if (last.limit_bytes && !recommend::passes_hysteresis(last.limit_bytes, r.rec.limit_bytes, rules) &&
      *last.limit_bytes != r.rec.limit_bytes) {
    held += (held.empty() ? "" : ", ") + std::string("limit ") + recommend::quantity(*last.limit_bytes);
    r.rec.limit_bytes = *last.limit_bytes;
  }
  r.rec.limit_bytes = std::max(r.rec.limit_bytes, r.rec.request_bytes);
  if (!held.empty()) r.rec.rationale += "; kept the stored recommendation's " + held + " (the new one is within hysteresis of it)";
  r.last = recommend::LastRecommendation{last.at_ms * 1'000'000, last.request_bytes.value_or(0), last.limit_bytes.value_or(0),
                                         "", "stored in the --state file"};
}

// The workload's profile, whether it is tuned, and its rules (the run's with
// the overrides file's percentile and margins).
void apply_tuning(FleetReport& f, const WorkloadOverrides* ov, const FleetContext& c) {
  f.profile = c.profile;
  f.profile_from = c.profile_from;
  if (ov && ov->profile) f.profile = *ov->profile, f.profile_from = "overrides file";
  if (ov && ov->enabled) {
    f.tuning_enabled = *ov->enabled;
    if (!f.tuning_enabled)
      f.tuning_reason = "memory tuning is disabled for " + workload_id(f.key) + " (memory_tuning.enabled: false in the overrides file)";
  } else {
    f.tuning_enabled = tuning_default(f.profile);
    if (!f.tuning_enabled)
      f.tuning_reason = "memory tuning is off for " + workload_id(f.key) + ": profile " + profile_name(f.profile) + " (from " +
                        f.profile_from + ") disables it unless memory_tuning.enabled is true";
  }
  f.rules = c.rules;
  if (!ov) return;
  if (ov->percentile_pm) f.rules.percentile_pm = *ov->percentile_pm;
  if (ov->request_margin_pm) f.rules.request_p95_pm = *ov->request_margin_pm;
  if (ov->limit_margin_pm) f.rules.limit_max_pm = *ov->limit_margin_pm;
  f.tuning_overridden = ov->percentile_pm || ov->request_margin_pm || ov->limit_margin_pm;
}

}  // namespace

recommend::Input fleet_input(const Group& g, const FleetQuery& q, std::optional<uint64_t> oom_used,
                             uint32_t percentile_pm) {
  recommend::Input in;
  in.long_window = window_figures(g.points, q.end_ms - q.window_ms, q.end_ms, percentile_pm);
  auto s = window_figures(g.points, q.end_ms - std::min(q.short_window_ms, q.window_ms), q.end_ms, percentile_pm);
  if (s.samples) in.short_window = s;
  in.oom_used_bytes = oom_used;
  return in;
}

std::vector<FleetReport> build_fleet_reports(const FleetData& d, const FleetQuery& q, const FleetContext& c) {
  std::vector<FleetReport> out;
  for (const auto& [k, g] : d.ws) {
    FleetReport f;
    f.key = k;
    f.kind = g.kind;
    f.owner_from = g.owner_from;
    f.owner_via = g.owner_via;
    f.usage_now_bytes = usage_now(g.points);
    f.pods = g.pods.size();
    f.series = g.series;
    f.dominant = dominant_pod(g.pod_max);
    const WorkloadOverrides* ov = nullptr;
    if (c.overrides)
      if (auto o = c.overrides->find(workload_id(k)); o != c.overrides->end()) ov = &o->second;
    apply_tuning(f, ov, c);
    recommend::Report& r = f.report;
    r.name = key_text(k);
    std::optional<uint64_t> oom;
    if (auto o = d.oom_used.find(k); o != d.oom_used.end()) oom = o->second;
    r.input = fleet_input(g, q, oom, f.rules.percentile_pm);
    if (r.input.long_window.samples == 0) continue;
    if (auto rq = bytes_of(d.requests, k)) r.current.request_bytes = *rq, r.request_from = "kube-state-metrics";
    if (auto lm = bytes_of(d.limits, k)) r.current.limit_bytes = *lm, r.limit_from = "kube-state-metrics";
    if (auto rs = d.rss.find(k); rs != d.rss.end())
      f.rss = window_figures(rs->second.points, q.end_ms - q.window_ms, q.end_ms, f.rules.percentile_pm);
    if (f.rss.samples) r.input.rss_p95_bytes = f.rss.ws_p95_bytes, r.input.rss_max_bytes = f.rss.ws_max_bytes;
    r.rec = recommend::recommend(r.input, f.rules);
    if (const StoredWorkload* sw = stored(c, k)) {
      if (sw->last_applied_ms) f.last_applied_ns = *sw->last_applied_ms * 1'000'000;
      if (auto sc = sw->containers.find(k.container); sc != sw->containers.end() && sc->second.recommended)
        hold_last(r, *sc->second.recommended, f.rules);
    }
    // No stored recommendation on this path: hysteresis compares with the
    // current values, and the cooldown runs from the last change of the
    // request or limit that Prometheus saw (a revision reaching the pods).
    if (auto rv = d.revised_ms.find(k); rv != d.revised_ms.end()) f.last_revision_ns = rv->second * 1'000'000;
    r.decision = recommend::decide(r.current, r.rec, f.last_revision_ns, c.now_ns, f.rules);
    if (!f.tuning_enabled) r.decision = {false, false, false, f.tuning_reason};
    if (ov) {
      f.enforce = ov->enforce;
      if (ov->knative.container_concurrency || !ov->knative.annotations.empty()) f.override_knative = ov->knative;
      if (auto co = ov->containers.find(k.container); co != ov->containers.end()) f.override_values = co->second;
    }
    out.push_back(std::move(f));
  }
  // Knative advice: once per Service, on its user container nearest its limit.
  std::map<std::string, FleetReport*> pick;
  auto ratio = [](const FleetReport& f) {
    uint64_t lim = f.report.current.limit_bytes && *f.report.current.limit_bytes != kUnlimited
                       ? *f.report.current.limit_bytes
                       : f.report.rec.limit_bytes;
    return static_cast<double>(f.report.input.long_window.ws_max_bytes) / static_cast<double>(lim);
  };
  for (auto& f : out) {
    std::string id = workload_id(f.key);
    bool known = c.services && c.services->count(id);
    if (f.kind != "Service" && !known) continue;
    if (f.key.container == kQueueProxy) continue;
    auto& p = pick[id];
    if (!p || ratio(f) > ratio(*p)) p = &f;
  }
  for (auto& [id, f] : pick) {
    Key wk{f->key.ns, f->key.workload, ""};
    if (auto it = d.concurrency.find(wk); it != d.concurrency.end()) f->concurrency = spread(it->second);
    if (auto it = d.queue_depth.find(wk); it != d.queue_depth.end()) f->queue_depth = spread(it->second);
    recommend::KnativeInput in;
    in.ws_max_bytes = f->report.input.long_window.ws_max_bytes;
    const auto& cur = f->report.current.limit_bytes;
    in.limit_bytes = cur && *cur != kUnlimited ? *cur : f->report.rec.limit_bytes;
    if (f->concurrency) in.concurrency_p95 = f->concurrency->p95;
    if (f->queue_depth) in.queue_depth_p95 = f->queue_depth->p95;
    if (c.services)
      if (auto s = c.services->find(id); s != c.services->end()) in.settings = s->second.settings;
    if (c.overrides)
      if (auto o = c.overrides->find(id); o != c.overrides->end()) in.overrides = o->second.knative;
    // The memory gate's cooldown, whether or not its figures moved.
    in.cooling_down = f->last_revision_ns && c.now_ns - *f->last_revision_ns < c.rules.cooldown_ns;
    f->knative = recommend::advise_knative(in, c.knative_rules);
  }
  return out;
}

void record_recommendations(FleetState& s, const std::vector<FleetReport>& rs, int64_t now_ms) {
  for (const auto& f : rs) {
    if (!f.tuning_enabled) continue;  // no recommendation was made
    auto& slot = s.workloads[workload_id(f.key)].containers[f.key.container].recommended;
    StoredFigures now{f.report.rec.request_bytes, f.report.rec.limit_bytes, now_ms};
    if (!slot || slot->request_bytes != now.request_bytes || slot->limit_bytes != now.limit_bytes) slot = now;
  }
}

}  // namespace ow::fleet
