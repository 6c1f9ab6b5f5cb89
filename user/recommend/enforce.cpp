#include "recommend/enforce.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "recommend/quantity.hpp"

namespace ow::recommend {

std::optional<std::string> enforce_cooldown(std::optional<int64_t> last, int64_t now_ns, const EnforceParams& p) {
  if (!last || now_ns - *last >= p.cooldown_ns) return std::nullopt;
  return fmt::format("cooldown: changed {} ago, next after {}", duration_text(now_ns - *last), duration_text(p.cooldown_ns));
}

EnforceStep plan_enforce(const EnforceInput& in, const EnforceParams& p) {
  EnforceStep s;
  if (in.kubernetes_owned) {
    s.reason = "Kubernetes-owned: never written (the kubelet owns its limits)";
    return s;
  }
  if (in.current_limit_bytes == UINT64_MAX) {
    s.reason = "no limit now: enforcement only moves existing limits";
    return s;
  }
  if (in.in_incident) {
    s.reason = "in a rescue incident: its grants are not undone";
    return s;
  }
  if (auto c = enforce_cooldown(in.last_enforced_ns, in.now_ns, p)) {
    s.reason = *c;
    return s;
  }
  uint64_t cur = in.current_limit_bytes;
  uint64_t delta = static_cast<uint64_t>(static_cast<unsigned __int128>(cur) * p.max_delta_pm / 1000);
  uint64_t lo = cur - delta, hi = cur > UINT64_MAX - delta ? UINT64_MAX : cur + delta;
  uint64_t t = std::clamp(in.recommended_limit_bytes, lo, hi);
  std::string why = t == in.recommended_limit_bytes
                        ? "the recommended " + quantity(t)
                        : fmt::format("{} of {} toward {} (at most {} % per change)", mib_text(t), quantity(cur),
                                      quantity(in.recommended_limit_bytes), p.max_delta_pm / 10);
  uint64_t safe = std::max(in.ws_p95_bytes, add_sat(in.usage_bytes, p.margin_bytes));
  if (t < safe) {
    t = safe;
    why = safe == in.ws_p95_bytes ? "the observed ws p95 " + mib_text(safe)
                                  : fmt::format("usage {} + {} margin", mib_text(in.usage_bytes), quantity(p.margin_bytes));
  }
  if (t < in.floor_bytes) {
    t = in.floor_bytes;
    why = "the configured floor " + quantity(t);
  } else if (t > in.ceiling_bytes) {
    t = in.ceiling_bytes;
    why = "the configured ceiling " + quantity(t);
  }
  t = round_up(t, p.round_bytes);
  if (t == cur) {
    s.reason = "already at " + quantity(cur) + " (" + why + ")";
    return s;
  }
  s.change = true;
  s.new_limit_bytes = t;
  s.reason = fmt::format("{} → {}: {}", quantity(cur), quantity(t), why);
  return s;
}

}  // namespace ow::recommend
