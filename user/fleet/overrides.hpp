// Per-workload tuning controls from --overrides FILE (JSON, or the same
// document in YAML), keyed by
// "namespace/workload" (a Knative Service by its name):
//   {"shop/web": {
//      "memory_tuning":  {"enabled": true, "enforce": false,
//                         "overrides": {"app": {"request": "256Mi", "limit": "512Mi"}}},
//      "knative_tuning": {"overrides": {"containerConcurrency": 10,
//                         "annotations": {"autoscaling.knative.dev/target": "50"}}}}}
// profile (dev, edge or full; default: the run's --profile): sets enabled's
// default, false in dev and true in edge and full, as the seed says;
// enabled (default by profile): false gives the workload no recommendation
// and no patch;
// percentile (0.5..1), request_margin and limit_margin (1..10), at most
// three decimals: the workload's own percentile of the working set and the
// factors on it and on ws_max (the rules' 0.95, 1.20 and 1.10 otherwise);
// enforce (default false): with enforcement switched on globally, its patch
// is marked to be applied; overrides win over recommendations (precedence:
// recommend::choose) and are never changed by advice. Unknown keys are
// errors (a misspelt key would otherwise be ignored). Pure text -> data.
#pragma once
#include <cstdint>
#include <optional>
#include <map>
#include <optional>
#include <string>

#include "recommend/knative.hpp"
#include "util/result.hpp"

namespace ow::fleet {

struct ContainerOverride {
  std::optional<uint64_t> request_bytes, limit_bytes;
};

enum class Profile { Dev, Edge, Full };
const char* profile_name(Profile p);
Result<Profile> parse_profile(const std::string& s);  // "dev", "edge", "full"
inline bool tuning_default(Profile p) { return p != Profile::Dev; }

struct WorkloadOverrides {
  std::optional<Profile> profile;
  std::optional<bool> enabled;  // unset: the profile's default
  bool enforce = false;
  std::optional<uint32_t> percentile_pm, request_margin_pm, limit_margin_pm;
  std::map<std::string, ContainerOverride> containers;
  recommend::KnativeOverrides knative;
};

using Overrides = std::map<std::string, WorkloadOverrides>;  // "ns/workload"

Result<Overrides> parse_overrides(const std::string& text);

}  // namespace ow::fleet
