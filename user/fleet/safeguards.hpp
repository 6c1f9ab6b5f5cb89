// How far an enforced fleet patch may move a container's memory figures in
// one run: node enforcement's safeguards (recommend::plan_enforce), applied
// to Kubernetes' request and limit instead of a cgroup's limit. Pure.
//   limit:   at most 30 % from the current limit per run; never below the
//            observed ws p95 nor usage now + 32Mi (these may take a raise past
//            30 %: a limit under usage is an OOM kill); no limit now, or none
//            known: left alone (enforcement moves existing figures only);
//   request: at most 30 % from the current request per run; never lowered
//            below the observed ws p95 (a request under usage kills nothing,
//            so a raise stays within the 30 %);
//   cooldown (per workload): no applied change within 30 min of the last one
//            (the state file's, any figure or Knative setting).
// Overridden figures are the user's and are not stepped.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "recommend/enforce.hpp"

namespace ow::fleet {

struct FigureStep {
  std::optional<uint64_t> bytes;  // the value to write; nullopt: leave the figure as it is
  std::string reason;             // plan_enforce's words for the figure, prefixed with its name
};

// current: what kube-state-metrics says now (nullopt: unknown, kUnlimited: none).
FigureStep step_limit(std::optional<uint64_t> current, uint64_t target, uint64_t ws_p95, uint64_t usage,
                      const recommend::EnforceParams& p = {});
FigureStep step_request(std::optional<uint64_t> current, uint64_t target, uint64_t ws_p95,
                        const recommend::EnforceParams& p = {});

// "cooldown: changed 5m ago, next after 30m, at 2026-...Z" while the
// workload's last applied change is within the cooldown; nullopt otherwise.
std::optional<std::string> workload_cooldown(std::optional<int64_t> last_applied_ns, int64_t now_ns,
                                             const recommend::EnforceParams& p = {});

}  // namespace ow::fleet
