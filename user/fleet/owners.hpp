// Which workload owns a pod, as kube-state-metrics says (pure):
//   kube_pod_owner{namespace,pod,owner_kind,owner_name}             pod -> its controller
//   kube_replicaset_owner{namespace,replicaset,owner_kind,owner_name} ReplicaSet -> its controller
// pod -> ReplicaSet -> Deployment (or whatever owns the ReplicaSet: an Argo
// Rollout stays a Rollout), pod -> StatefulSet / DaemonSet / Job / other
// directly; owner_kind "<none>" is kube-state-metrics' word for no owner (a
// bare pod, or a ReplicaSet nobody owns). A pod without a kube_pod_owner
// series falls back to the owner label, else to its name (workload.hpp).
#pragma once
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fleet/prom_api.hpp"
#include "fleet/workload.hpp"

namespace ow::fleet {

struct OwnerRef {
  std::string kind, name;
};

// (namespace, pod) and (namespace, replicaset) -> the owner kube-state-metrics names.
struct OwnerTables {
  std::map<std::pair<std::string, std::string>, OwnerRef> pods, replicasets;
};

// The tables from the two metrics' instant answers; series without the
// needed labels are skipped; when a pod has several owner series (an owner
// changed in the window) the one answered last in label order is kept.
OwnerTables owner_tables(const std::vector<Series>& pod_owner, const std::vector<Series>& replicaset_owner,
                         const std::string& ns_label = "namespace", const std::string& pod_label = "pod");

inline constexpr const char* kFromPodOwner = "kube_pod_owner";
inline constexpr const char* kFromOwnerLabel = "owner_label";
inline constexpr const char* kFromName = "name";

struct Owned {
  Workload workload;
  std::string from;  // kFromPodOwner, kFromOwnerLabel, kFromName
  std::string via;   // the chain: "pod x -> ReplicaSet y -> Deployment z"; "" from the name
};

// owner_label: the series' owner label value ("" when absent). A Knative
// revision's Deployment (<service>-<NNNNN>-deployment) becomes its Service
// whichever way the Deployment was found.
Owned resolve_owner(const OwnerTables* t, const std::string& ns, const std::string& pod, const std::string& owner_label);

// The kinds oomwatch writes a patch for: Deployment, StatefulSet, DaemonSet,
// Service (Knative). kubectl's resource name for them; nullptr for others.
const char* patch_resource(const std::string& kind);

}  // namespace ow::fleet
