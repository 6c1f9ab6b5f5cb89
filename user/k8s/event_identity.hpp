// Who a killed process belonged to, for the OOM event lines of `events` and
// `run`: a Kubernetes container or pod (names from the kubelet's log tree,
// kubelet_logs.hpp), or a runtime's container outside Kubernetes (its id,
// identity.hpp). Any other cgroup has no identity and its lines are as before.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "k8s/identity.hpp"
#include "k8s/kubelet_logs.hpp"

namespace ow::k8s {

struct EventIdentity {
  std::optional<Named> kube;
  std::optional<RuntimeContainer> container;  // only when not a Kubernetes path
};

// Pure: the names are passed in.
EventIdentity identify(const std::string& cgroup, const KubeletNames& names);

// The same, reading the log tree under log_dir only for a Kubernetes path
// (kills are rare; a missing or unreadable tree gives no names, not an error).
EventIdentity identify_reading(const std::string& cgroup, const std::string& log_dir);

// Appends "kubernetes":{"namespace","pod","container","pod_uid","container_id","qos"}
// (recommend's object; a name the logs do not give is "") or
// "container":{"id","runtime"} (runtime "" when the path does not say).
void add_identity(nlohmann::ordered_json& ev, const EventIdentity& id);

// The end of a human event line: " k8s=shop/web-1/app" (display_name()),
// " container=<id>", or "" for other cgroups.
std::string identity_text(const EventIdentity& id);

}  // namespace ow::k8s
