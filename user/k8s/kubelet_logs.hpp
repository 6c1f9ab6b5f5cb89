// Names for Kubernetes-owned cgroups from the kubelet's log directories
// (default under /var/log): pods/<namespace>_<pod>_<uid>/ gives namespace and
// pod by uid, containers/<pod>_<namespace>_<container>-<id>.log gives the
// container name by container id. Read once per command; missing directories
// are no names, not an error (a node without Kubernetes).
#pragma once
#include <map>
#include <optional>
#include <string>

#include "k8s/identity.hpp"
#include "util/result.hpp"

namespace ow::k8s {

inline constexpr const char* kDefaultLogDir = "/var/log";

struct KubeletNames {
  std::map<std::string, PodLogDir> pods_by_uid;
  std::map<std::string, ContainerLog> containers_by_id;
};

// Error only when a directory exists but cannot be listed.
Result<KubeletNames> read_kubelet_logs(const std::string& log_dir);

struct Named {
  CgroupIdentity id;
  std::string ns, pod, container;  // empty when the logs do not say (container: also for a pod-level cgroup)
};

// nullopt: not a Kubernetes cgroup path.
std::optional<Named> name_cgroup(const std::string& path, const KubeletNames& names);

// "namespace/pod/container", "namespace/pod" for a pod cgroup, or "pod <uid>" when unnamed.
std::string display_name(const Named& n);

}  // namespace ow::k8s
