// Fleet recommendations: Prometheus's figures per (namespace, workload,
// container) fed to the same rule engine and gate as the node path
// (recommend::recommend, recommend::decide), with Knative concurrency advice
// for Knative Services, and the per-workload overrides. Pure; the reports
// are presented by fleet_output.hpp and patch.hpp.
// With a state file (fleet_state.hpp), a new recommendation within
// hysteresis of the stored one keeps the stored one (the recommendation in
// force stays put instead of following every small move), per figure.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "fleet/aggregate.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/knative_services.hpp"
#include "fleet/overrides.hpp"
#include "fleet/prom_source.hpp"
#include "recommend/knative.hpp"
#include "recommend/report.hpp"

namespace ow::fleet {

struct FleetReport {
  recommend::Report report;  // name "ns/workload/container"; cgroup empty
  Key key;
  std::string kind;
  std::string owner_from, owner_via;  // Group's: how the workload was found
  size_t pods = 0, series = 0;
  uint64_t usage_now_bytes = 0;  // the largest working set at the newest point (across pods)
  recommend::WindowFigures rss;  // samples 0: no RSS series
  std::optional<Spread> concurrency, queue_depth;
  std::optional<recommend::KnativeAdvice> knative;  // on the Service's container nearest its limit
  std::optional<ContainerOverride> override_values;
  std::optional<recommend::KnativeOverrides> override_knative;  // the workload's, when given
  bool tuning_enabled = true, enforce = false;
  std::string tuning_reason;  // why tuning is off (profile or enabled), empty when on
  Profile profile = Profile::Full;
  std::string profile_from;   // "overrides file", "--profile" or "default"
  recommend::Rules rules;     // the run's rules with the workload's percentile and margins
  bool tuning_overridden = false;  // the overrides file set a percentile or margin
  std::optional<DominantPod> dominant;  // one pod's max at least kDominantRatio × every other's
  std::optional<int64_t> last_revision_ns;  // the request or limit last changed then, within the cooldown
  std::optional<int64_t> last_applied_ns;   // the state file's last applied change of the workload
};

struct FleetContext {
  recommend::Rules rules;
  recommend::KnativeRules knative_rules;
  const KnativeServices* services = nullptr;  // nullptr: no --knative-services
  const Overrides* overrides = nullptr;       // nullptr: no --overrides
  const FleetState* state = nullptr;          // nullptr: no --state
  Profile profile = Profile::Full;            // the run's, for workloads whose overrides name none
  std::string profile_from = "default";      // "--profile" when given
  int64_t now_ns = 0;
};

// Knative's sidecar: not a user container, never advised on concurrency.
inline constexpr const char* kQueueProxy = "queue-proxy";

std::vector<FleetReport> build_fleet_reports(const FleetData& d, const FleetQuery& q, const FleetContext& c);

// Stores each report's recommendation in force; its time stays that of the
// run that made it while the figures are unchanged.
void record_recommendations(FleetState& s, const std::vector<FleetReport>& rs, int64_t now_ms);

// The recommendation in the shared rule engine's input form, for one key
// (ws_p95 at the workload's percentile).
recommend::Input fleet_input(const Group& g, const FleetQuery& q, std::optional<uint64_t> oom_used,
                             uint32_t percentile_pm = 950);

}  // namespace ow::fleet
