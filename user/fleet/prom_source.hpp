// The queries the fleet path sends to Prometheus, and their answers grouped
// per (namespace, workload, container):
//   working set, RSS:  query_range of max_over_time(<metric>{sel}[step - 1ms])
//                      from end - window + step to end: each point is the
//                      largest sample of the step ending at it, so the
//                      steps tile the window (no sample counted twice, no
//                      stale series carried past its end);
//   requests, limits:  query of last_over_time(<metric>{resource="memory",sel}[window]) at end;
//                      these and the Knative series are asked without the owner
//                      matcher and joined by (namespace, pod[, container]) to the
//                      working set's keys (kube-state-metrics has no pod labels);
//   OOM kills:         query of max_over_time(<metric>{<oom match>,sel}[window]) > 0 at end
//                      (a counter, name ending in _total: increase(...[window]) > 0);
//   Knative:           query_range as for the working set, of the concurrency
//                      and queue-depth metrics, per revision pod;
//   ownership:         query of last_over_time(<metric>{sel}[window]) at end of
//                      kube_pod_owner and kube_replicaset_owner, asked first:
//                      they name each pod's workload (owners.hpp); none is no error.
// A range needing more than max_points points per series is split into
// consecutive ranges on the same step grid and merged.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fleet/aggregate.hpp"
#include "fleet/owners.hpp"
#include "fleet/prom_api.hpp"

namespace ow::fleet {

inline constexpr int64_t kMaxPointsPerSeries = 11000;  // Prometheus refuses more

struct Metrics {
  std::string working_set = "container_memory_working_set_bytes";
  std::string rss = "container_memory_rss";
  std::string requests = "kube_pod_container_resource_requests";
  std::string limits = "kube_pod_container_resource_limits";
  std::string resource_match = "resource=\"memory\"";
  std::string oom = "kube_pod_container_status_last_terminated_reason";
  std::string oom_match = "reason=\"OOMKilled\"";
  std::string concurrency = "revision_app_request_concurrency";
  std::string queue_depth = "revision_queue_depth";
  std::string pod_owner = "kube_pod_owner";
  std::string replicaset_owner = "kube_replicaset_owner";
};

struct FleetQuery {
  std::string selector;     // PromQL matchers added to every query: namespace="shop"
  std::string owner;        // when set: <labels.owner>="<owner>" is added too
  int64_t end_ms = 0, window_ms = 0, short_window_ms = 0, step_ms = 0;
  int64_t max_points = kMaxPointsPerSeries;
  Metrics metrics;
  LabelNames labels;
  bool knative = false;     // query the Knative series
  // When > 0: how far back from end to look for the last change of a
  // container's memory request or limit (the memory gate's cooldown).
  int64_t cooldown_ms = 0;
};

struct FleetData {
  std::map<Key, Group> ws, rss;
  std::map<Key, double> requests, limits;
  std::map<Key, uint64_t> oom_used;            // the killed pods' largest working set in the window
  std::map<Key, std::vector<double>> concurrency, queue_depth;  // container "" (per workload)
  // The last change of the request or limit (largest across the key's pods)
  // within the cooldown before end: a revision reached the cluster then.
  std::map<Key, int64_t> revised_ms;
  OwnerTables owners;                          // from kube_pod_owner and kube_replicaset_owner
  int range_queries = 0;                       // query_range requests sent (after splitting)
};

// The time of the last change in a key's values: each series' points at
// step times, pooled by key as their largest at each time (pods of a
// workload carry the same request); the first time whose pooled value
// differs from the one before. Keys whose value never changes are absent.
std::map<Key, int64_t> last_changes(const std::vector<std::pair<Key, const Series*>>& series);

// "<m1>,<m2>" from the non-empty parts.
std::string matchers(const std::vector<std::string>& parts);
// The step to use when none is given: 30s, or coarser so one range fits max_points.
int64_t default_step_ms(int64_t window_ms, int64_t max_points = kMaxPointsPerSeries);
// Consecutive [start, end] ranges on start's step grid, each at most max_points points.
std::vector<std::pair<int64_t, int64_t>> split_range(int64_t start_ms, int64_t end_ms, int64_t step_ms, int64_t max_points);

Result<FleetData> fetch_fleet(PromClient& c, const FleetQuery& q);

}  // namespace ow::fleet
