// Recommendations the agent's worker made: stored, published on /metrics,
// and applied to managed children when [recommend] enforce is on.
#include "agent/daemon_impl.hpp"

namespace ow::agent::detail {

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
  Child* found = kids_->find(f.row.path);
  if (!found) return;
  Child& c = *found;
  auto u = h_.read(c.path);
  if (!u) return;
  auto pol = config::cgroup_policy(cfg_, c.path);
  recsvc::RecommendApplier::Target t{u->limit_bytes, u->usage_bytes, pol.floor_bytes, pol.ceiling_bytes,
                             Incidents::in_incident(c, mono_ns())};
  if (auto n = applier_->apply(f, t, !cfg_.enforce, wall_ns())) {
    c.last_limit = *n;
    if (c.guard_bytes) kids_->update_guard(c);
  }
}

}  // namespace ow::agent::detail
