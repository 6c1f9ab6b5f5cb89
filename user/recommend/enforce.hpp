// Whether, and how far, the agent moves a cgroup's limit toward a
// recommendation (run --enforce with [recommend] enforce = true). Pure.
// Safeguards, in order:
//   Kubernetes-owned cgroups are never written (the kubelet owns them);
//   no limit now: left alone (enforcement moves existing limits only);
//   in a rescue incident: left alone (a grant must not be undone);
//   cooldown: one change per cgroup per 30 min;
//   bounded delta: at most 30 % of the current limit per change;
//   never below the observed ws p95, nor below usage now + margin (32Mi);
//   overrides win: the [[cgroup]] floor and ceiling bound the result;
//   rounded up to 1Mi; no change when that is the current limit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "recommend/rules.hpp"

namespace ow::recommend {

struct EnforceParams {
  uint32_t max_delta_pm = 300;  // 30 %
  uint64_t margin_bytes = 32 * kMi;
  int64_t cooldown_ns = 30 * kMinuteNs;
  uint64_t round_bytes = kMi;
};

struct EnforceInput {
  uint64_t current_limit_bytes = 0;  // kUnlimited: none
  uint64_t recommended_limit_bytes = 0;
  uint64_t ws_p95_bytes = 0;
  uint64_t usage_bytes = 0;  // now
  uint64_t floor_bytes = 0, ceiling_bytes = UINT64_MAX;  // the operator's override bounds
  bool kubernetes_owned = false;
  bool in_incident = false;
  std::optional<int64_t> last_enforced_ns;
  int64_t now_ns = 0;
};

struct EnforceStep {
  bool change = false;
  uint64_t new_limit_bytes = 0;
  std::string reason;  // what decided the figure, or why nothing is written
};

EnforceStep plan_enforce(const EnforceInput& in, const EnforceParams& p = {});

// The cooldown safeguard alone: why nothing may change yet ("cooldown: changed
// 5m ago, next after 30m"), or nullopt when the last change is old enough or
// there was none. plan_enforce checks it first.
std::optional<std::string> enforce_cooldown(std::optional<int64_t> last_enforced_ns, int64_t now_ns,
                                            const EnforceParams& p = {});

}  // namespace ow::recommend
