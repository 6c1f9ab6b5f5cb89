#include "fleet/safeguards.hpp"

#include "recommend/quantity.hpp"
#include "stats/time.hpp"
#include "util/units.hpp"

namespace ow::fleet {
namespace {

FigureStep unknown(const char* what) {
  return {std::nullopt, std::string(what) + ": not changed: its current value is unknown (no kube-state-metrics "
                                            "series), so the 30 % bound cannot be kept"};
}

FigureStep from_plan(const char* what, const recommend::EnforceInput& in, const recommend::EnforceParams& p) {
  auto s = recommend::plan_enforce(in, p);
  return {s.change ? std::optional<uint64_t>(s.new_limit_bytes) : std::nullopt, std::string(what) + ": " + s.reason};
}

}  // namespace

FigureStep step_limit(std::optional<uint64_t> current, uint64_t target, uint64_t ws_p95, uint64_t usage,
                      const recommend::EnforceParams& p) {
  if (!current) return unknown("limit");
  recommend::EnforceInput in;
  in.current_limit_bytes = *current;
  in.recommended_limit_bytes = target;
  in.ws_p95_bytes = ws_p95;
  in.usage_bytes = usage;
  return from_plan("limit", in, p);
}

FigureStep step_request(std::optional<uint64_t> current, uint64_t target, uint64_t ws_p95,
                        const recommend::EnforceParams& p) {
  if (!current || *current == kUnlimited) return unknown("request");
  if (target < *current && ws_p95 >= *current)
    return {std::nullopt, "request: not lowered: " + recommend::quantity(*current) + " is not above the observed ws p95 " +
                              recommend::mib_text(ws_p95)};
  recommend::EnforceInput in;
  in.current_limit_bytes = *current;
  in.recommended_limit_bytes = target;
  in.ws_p95_bytes = target < *current ? ws_p95 : 0;  // the p95 floor stops decreases only
  recommend::EnforceParams rp = p;
  rp.margin_bytes = 0;  // no usage floor: usage 0 + 0
  return from_plan("request", in, rp);
}

std::optional<std::string> workload_cooldown(std::optional<int64_t> last_applied_ns, int64_t now_ns,
                                             const recommend::EnforceParams& p) {
  auto c = recommend::enforce_cooldown(last_applied_ns, now_ns, p);
  if (!c) return std::nullopt;
  return *c + ", at " + stats::format_rfc3339(*last_applied_ns + p.cooldown_ns);
}

}  // namespace ow::fleet
