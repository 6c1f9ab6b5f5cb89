// Kubernetes identity of a cgroup, from the node alone. Pure parsers over
// literal paths and file names; kubelet_logs.hpp reads the directories.
//
// Cgroup paths of both kubelet cgroup drivers, cgroup v1 and v2 alike (v1
// paths are the same below /sys/fs/cgroup/memory), possibly nested under a
// cgroup root such as /kubelet.slice:
//   cgroupfs: /kubepods[/burstable|/besteffort]/pod<uid>[/<container-id>]
//   systemd:  /kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_with_underscores>.slice
//             [/cri-containerd-<id>.scope | /crio-<id>.scope | /docker-<id>.scope]
// No qos level is the guaranteed class. A path without a container id is
// the pod's own cgroup. Anything else (not under kubepods, CRI-O's conmon
// scope, a cgroup inside a container) is not identified: a plain cgroup.
//
// Kubelet log names (names cannot hold '_': namespaces, pods and containers
// are DNS labels/subdomains):
//   /var/log/pods/<namespace>_<pod>_<uid>/<container>/
//   /var/log/containers/<pod>_<namespace>_<container>-<container-id>.log
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ow::k8s {

struct CgroupIdentity {
  std::string qos;           // "guaranteed", "burstable" or "besteffort"
  std::string pod_uid;       // with dashes, as the API shows it
  std::string container_id;  // empty: the pod-level cgroup
  std::string runtime;       // "containerd", "crio", "docker"; empty when the path does not say
};

std::optional<CgroupIdentity> parse_cgroup_path(std::string_view path);

// The kubelet's tree or anything in it: a "kubepods" or "*kubepods*.slice"
// component anywhere (the QoS levels and pods too, not just containers).
// Such cgroups are never written by oomwatch's recommendation enforcement.
bool kubernetes_owned(std::string_view path);

// A runtime's container outside Kubernetes, from its cgroup's last component:
//   <id>                      cgroupfs: /docker/<id>, ctr's /<namespace>/<id>, any parent
//   docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>[.scope]
// where <id> is 64 lowercase hex digits, the ids Docker, containerd's CRI,
// CRI-O and Podman make (ctr takes any id; given such an id it is named too).
// The runtime comes from the prefix, or from a "docker" or "libpod_parent"
// parent; empty when the path does not say. Kubernetes-owned paths and any
// other leaf (services, sessions, CRI-O's conmon) are not runtime containers.
struct RuntimeContainer {
  std::string id;
  std::string runtime;  // "docker", "containerd", "crio", "podman" or empty
};
std::optional<RuntimeContainer> parse_runtime_container(std::string_view path);

struct PodLogDir {
  std::string ns, pod, uid;
};
// "<namespace>_<pod>_<uid>"
std::optional<PodLogDir> parse_pod_log_dir(std::string_view name);

struct ContainerLog {
  std::string pod, ns, container, container_id;
};
// "<pod>_<namespace>_<container>-<id>.log"
std::optional<ContainerLog> parse_container_log(std::string_view name);

}  // namespace ow::k8s
