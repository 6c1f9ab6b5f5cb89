// Container requests/limits from `kubectl get pods -o json` output (a List of
// Pods, or one Pod), keyed by pod uid and container name. Pure: text in.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"

namespace ow::k8s {

struct ContainerResources {
  std::optional<uint64_t> request_bytes, limit_bytes;  // resources.{requests,limits}.memory
};

using PodResources = std::map<std::pair<std::string, std::string>, ContainerResources>;  // (uid, container)

// Errors: not JSON, not a Pod or List of Pods, a bad memory quantity (named with its pod and container).
Result<PodResources> parse_pods_json(std::string_view text);

}  // namespace ow::k8s
