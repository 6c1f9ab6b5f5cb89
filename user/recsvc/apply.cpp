#include "recsvc/apply.hpp"

#include <nlohmann/json.hpp>

#include "k8s/identity.hpp"
#include "policy/audit.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::recsvc {
namespace {

nlohmann::ordered_json record(const NewRecommendation& r, uint64_t before, uint64_t after, bool dry_run, int64_t ts,
                              const std::string& result, const std::string& reason) {
  nlohmann::ordered_json j;
  j["ts"] = policy::rfc3339_ms(ts);
  j["trigger"] = "recommendation";
  j["cgroup"] = printable(r.row.path);
  j["dry_run"] = dry_run;
  j["limits_before"] = {{printable(r.row.path), before}};
  j["limits_after"] = {{printable(r.row.path), after}};
  j["result"] = result;
  j["reason"] = reason;
  j["recommended_request"] = r.row.request_bytes;
  j["recommended_limit"] = r.row.limit_bytes;
  j["ws_p95"] = r.row.ws_p95_bytes;
  j["confidence"] = r.row.confidence;
  j["rationale"] = r.row.rationale;
  return j;
}

}  // namespace

std::optional<uint64_t> RecommendApplier::apply(const NewRecommendation& r, const Target& t, bool dry_run,
                                                int64_t now_ns) {
  recommend::EnforceInput in;
  in.current_limit_bytes = t.limit_bytes;
  in.recommended_limit_bytes = r.row.limit_bytes;
  in.ws_p95_bytes = r.row.ws_p95_bytes;
  in.usage_bytes = t.usage_bytes;
  in.floor_bytes = t.floor_bytes;
  in.ceiling_bytes = t.ceiling_bytes;
  in.kubernetes_owned = k8s::kubernetes_owned(r.row.path);
  in.in_incident = t.in_incident;
  if (auto it = last_.find(r.row.path); it != last_.end()) in.last_enforced_ns = it->second;
  in.now_ns = now_ns;
  auto step = recommend::plan_enforce(in, params_);
  if (!step.change) {
    spdlog::debug("recommendation for {} not enforced: {}", printable(r.row.path), step.reason);
    return std::nullopt;
  }
  last_[r.row.path] = now_ns;
  if (dry_run) {
    auto j = record(r, t.limit_bytes, step.new_limit_bytes, true, now_ns, "planned", step.reason);
    if (auto s = append_line_fsync(audit_log_, json_line(j)); !s) spdlog::error("audit log {}: {}", audit_log_, s.error().message());
    spdlog::info("recommendation for {} (dry run): {}", printable(r.row.path), step.reason);
    return std::nullopt;
  }
  auto pending = record(r, t.limit_bytes, step.new_limit_bytes, false, now_ns, "pending", step.reason);
  if (auto s = append_line(audit_log_, json_line(pending)); !s) {
    spdlog::error("{}: recommended limit not applied: the audit log cannot be written ({})", printable(r.row.path),
                  s.error().message());
    return std::nullopt;
  }
  auto res = act_.apply({{r.row.path, t.limit_bytes, step.new_limit_bytes, false}});
  bool written = res.ok && !res.applied.empty();
  std::string result = written ? "applied" : res.ok ? "skipped" : res.rolled_back ? "rolled_back" : "failed";
  std::string reason = step.reason;
  if (!res.ok) reason += "; " + res.error;
  if (res.ok && res.applied.empty() && !res.skip_reasons.empty()) reason += "; " + res.skip_reasons.front();
  auto done = record(r, t.limit_bytes, written ? step.new_limit_bytes : t.limit_bytes, false, wall_ns(), result,
                     reason);
  if (auto s = append_line_fsync(audit_log_, json_line(done)); !s)
    spdlog::error("audit log {}: {}", audit_log_, s.error().message());
  spdlog::info("recommendation for {} {}: {}", printable(r.row.path), result, reason);
  if (!written) return std::nullopt;
  return step.new_limit_bytes;
}

}  // namespace ow::recsvc
