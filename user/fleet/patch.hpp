// Per workload, the patch that would put its recommendation in place, for
// `kubectl patch` (oomwatch never talks to the Kubernetes API):
//   Deployment, StatefulSet, DaemonSet: a strategic-merge patch of
//     spec.template.spec.containers[] (merged by name) resources memory;
//   Knative Service: a merge patch of spec.template: the containers from
//     --knative-services written back whole with their new memory (a merge
//     patch replaces the list), the target annotation and containerConcurrency.
// Per container the value is recommend::choose: explicit override >
// recommendation (past hysteresis) > the current value; the patch holds only
// what differs from now. "apply" is true only when enforcement is switched
// on (--enforce or OPRC_CRM_FEATURES_NFR_ENFORCEMENT=true) and the workload's
// overrides say enforce; otherwise the patch is advice. Pure.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/fleet_report.hpp"

namespace ow::fleet {

struct PatchOptions {
  bool enforcement = false;
  std::string enforcement_from;  // "--enforce", "OPRC_CRM_FEATURES_NFR_ENFORCEMENT"
};

std::vector<nlohmann::ordered_json> workload_patches(const std::vector<FleetReport>& rs, const KnativeServices* ksvc,
                                                     const PatchOptions& o);
std::string patches_text(const std::vector<nlohmann::ordered_json>& ps);  // one JSON line per workload

// "kubectl patch <resource> <name> -n <ns> --type <type> -p '<patch>'", shell-quoted.
std::string kubectl_command(const std::string& resource, const std::string& name, const std::string& ns,
                            const std::string& type, const std::string& patch);

}  // namespace ow::fleet
