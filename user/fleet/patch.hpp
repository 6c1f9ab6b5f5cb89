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
// on (--enforce or OPRC_CRM_FEATURES_NFR_ENFORCEMENT=true), the workload's
// overrides say enforce, a state file keeps the last applied change and the
// safeguards (safeguards.hpp) allow it: an enforced patch carries the
// recommended figures only as far as a bounded step goes, and is held back
// (apply false, apply_reason naming the safeguard and until when) while the
// workload's cooldown runs. Otherwise the patch is advice (the recommended
// figures). Kinds other than Deployment, StatefulSet, DaemonSet and Knative
// Service get no patch (their figures are listed). Pure.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/fleet_report.hpp"
#include "fleet/fleet_state.hpp"

namespace ow::fleet {

struct PatchOptions {
  bool enforcement = false;
  std::string enforcement_from;  // "--enforce", "OPRC_CRM_FEATURES_NFR_ENFORCEMENT"
  bool stateful = false;         // a --state file keeps the last applied changes
  std::string state_file;        // for the reasons' wording
  int64_t now_ns = 0;            // the run's end
  FleetState* record = nullptr;  // receives what each patch marked "apply" changes, and when
};

std::vector<nlohmann::ordered_json> workload_patches(const std::vector<FleetReport>& rs, const KnativeServices* ksvc,
                                                     const PatchOptions& o);
std::string patches_text(const std::vector<nlohmann::ordered_json>& ps);  // one JSON line per workload

// "kubectl patch <resource> <name> -n <ns> --type <type> -p '<patch>'", shell-quoted.
std::string kubectl_command(const std::string& resource, const std::string& name, const std::string& ns,
                            const std::string& type, const std::string& patch);

}  // namespace ow::fleet
