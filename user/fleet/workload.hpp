// Which workload a pod belongs to, from its name alone (pure): the
// controllers' generated suffixes are stripped.
//   <deployment>-<replicaset hash>-<5>  -> Deployment
//   <statefulset>-<ordinal>             -> StatefulSet
//   <daemonset>-<5>                     -> DaemonSet
//   anything else                       -> Pod (the name itself)
// Generated parts use Kubernetes' safe alphabet (no vowels, no 0/1/3).
// A Knative revision's Deployment (<service>-<NNNNN>-deployment) is named by
// its Service when that Service is known (see knative.hpp).
#pragma once
#include <string>
#include <string_view>

namespace ow::fleet {

struct Workload {
  std::string kind;  // "Deployment", "StatefulSet", "DaemonSet", "Pod", "Service" (Knative)
  std::string name;
};

Workload workload_of_pod(std::string_view pod);
// "<service>-00001-deployment" -> "<service>"; "" when the name is not a revision Deployment's.
std::string knative_service_of(std::string_view deployment);

}  // namespace ow::fleet
