// Concurrency advice for Knative Services, paired with the memory
// recommendation. Pure: figures in, advice and a rationale out.
//   lower: ws_max >= 90 % of the limit AND concurrency p95 > target
//          -> target × 0.80 (rounded down, never below 1), and a finite
//             containerConcurrency (the old target, rounded up) when it is
//             0 (unlimited): fewer requests per pod, smaller memory spikes;
//   raise: ws_max <= 60 % of the limit AND queue-depth p95 >= 1 AND
//          concurrency p95 < target
//          -> target × 1.20 (rounded down: at most +20 %): use the headroom.
// The gap between 60 % and 90 % keeps the two from alternating; the memory
// gate's cooldown holds a concurrency change back as it holds the memory
// one. Explicit user settings (overrides of the target annotation or of
// containerConcurrency) are never changed. Only the "concurrency" autoscaling
// metric is advised on (an "rps" Service is left alone).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ow::recommend {

inline constexpr const char* kTargetAnnotation = "autoscaling.knative.dev/target";
inline constexpr const char* kMetricAnnotation = "autoscaling.knative.dev/metric";
inline constexpr const char* kBurstAnnotation = "autoscaling.knative.dev/targetBurstCapacity";

struct KnativeSettings {
  int64_t container_concurrency = 0;  // 0: unlimited
  std::optional<double> target;       // the annotation; unset: Knative's default
  std::string metric;                 // the annotation; empty: "concurrency"
  std::optional<double> target_burst_capacity;
};

// The user's explicit settings, which advice never changes.
struct KnativeOverrides {
  std::optional<int64_t> container_concurrency;
  std::map<std::string, std::string> annotations;
};

struct KnativeRules {
  uint32_t near_pm = 900, far_pm = 600;   // ws_max against the limit
  uint32_t lower_pm = 200, raise_pm = 200;  // -20 %, +20 %
  double queue_high = 1.0;                 // queue-depth p95 at or above: requests wait
  double default_target = 100;             // Knative's container-concurrency-target-default
};

struct KnativeInput {
  uint64_t ws_max_bytes = 0;
  uint64_t limit_bytes = 0;  // the current limit (else the recommended one); 0: unknown
  std::optional<double> concurrency_p95, queue_depth_p95;  // unset: no series
  KnativeSettings settings;
  KnativeOverrides overrides;
  bool cooling_down = false;  // the memory gate's cooldown is running
};

struct KnativeAdvice {
  std::string clause = "none";  // "lower", "raise", "none"
  double current_target = 0;
  std::optional<int64_t> target;                 // a new target, when one is proposed
  std::optional<int64_t> container_concurrency;  // a finite bound, when one is proposed
  bool propose = false;
  std::string rationale;
};

KnativeAdvice advise_knative(const KnativeInput& in, const KnativeRules& r = {});

}  // namespace ow::recommend
