// Per-workload tuning controls from --overrides FILE (JSON, or the same
// document in YAML), keyed by
// "namespace/workload" (a Knative Service by its name):
//   {"shop/web": {
//      "memory_tuning":  {"enabled": true, "enforce": false,
//                         "overrides": {"app": {"request": "256Mi", "limit": "512Mi"}}},
//      "knative_tuning": {"overrides": {"containerConcurrency": 10,
//                         "annotations": {"autoscaling.knative.dev/target": "50"}}}}}
// enabled (default true): false leaves the workload out of every patch;
// enforce (default false): with enforcement switched on globally, its patch
// is marked to be applied; overrides win over recommendations (precedence:
// recommend::choose) and are never changed by advice. Unknown keys are
// errors (a misspelt key would otherwise be ignored). Pure text -> data.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "recommend/knative.hpp"
#include "util/result.hpp"

namespace ow::fleet {

struct ContainerOverride {
  std::optional<uint64_t> request_bytes, limit_bytes;
};

struct WorkloadOverrides {
  bool enabled = true, enforce = false;
  std::map<std::string, ContainerOverride> containers;
  recommend::KnativeOverrides knative;
};

using Overrides = std::map<std::string, WorkloadOverrides>;  // "ns/workload"

Result<Overrides> parse_overrides(const std::string& text);

}  // namespace ow::fleet
