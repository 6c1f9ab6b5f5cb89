// Series from Prometheus grouped per (namespace, workload, container) and
// reduced to the rule engine's window figures. Pure.
// Every pod of a workload and every restart of a container (a new series)
// is pooled into one set of points: the recommendation is per workload
// container, as the limits are set per pod template.
//   avg: the mean, rounded down to a byte; p95: nearest rank (the
//   ceil(0.95 n)-th smallest); max; covered: last - first point.
// cAdvisor's pod-level series (container="" or "POD") are skipped.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fleet/prom_api.hpp"
#include "recommend/rules.hpp"

namespace ow::fleet {

struct LabelNames {
  std::string ns = "namespace", pod = "pod", container = "container";
  std::string owner = "oaas_io_owner";  // names the workload when a series carries it
};

struct Key {
  std::string ns, workload, container;
  auto operator<=>(const Key&) const = default;
};
std::string key_text(const Key& k);  // "ns/workload/container"

struct OwnerTables;

struct Group {
  std::string kind;        // the owner's kind (owners.hpp): Deployment, StatefulSet, ..., Rollout, Pod
  std::string owner_from;  // "kube_pod_owner", "owner_label" or "name"
  std::string owner_via;   // kube-state-metrics' chain, "pod x -> ReplicaSet y -> Deployment z"
  std::set<std::string> pods;
  std::map<std::string, uint64_t> pod_max;  // each pod's largest sample (bytes), all its series
  size_t series = 0;
  std::vector<Point> points;
};

// The key of one series and its workload's kind; nullopt for pod-level or
// unlabelled series. Without need_container (revision-level Knative series)
// the key's container is empty. The workload is kube-state-metrics' owner
// when owners has the pod, else the owner label, else the pod's name.
struct SeriesKey {
  Key key;
  std::string kind, owner_from, owner_via;
};
std::optional<SeriesKey> series_key(const Labels& l, const LabelNames& n, bool need_container = true,
                                    const OwnerTables* owners = nullptr);

std::map<Key, Group> group_series(const std::vector<Series>& s, const LabelNames& n, bool need_container = true,
                                  const OwnerTables* owners = nullptr);

// The pooled figures of the points inside (start_ms, end_ms]; samples 0 when
// none. ws_p95 holds the percentile_pm-th per-mille by nearest rank
// (the ceil(pm n / 1000)-th smallest): p95 unless a workload asks otherwise.
recommend::WindowFigures window_figures(const std::vector<Point>& pts, int64_t start_ms, int64_t end_ms,
                                        uint32_t percentile_pm = 950);

// One pod standing out of a workload's pooled figures: its largest sample is
// at least kDominantRatio times that of every other pod (the next largest).
// Needs two pods or more; nullopt when no pod does.
inline constexpr double kDominantRatio = 2.0;
struct DominantPod {
  std::string pod, next_pod;
  uint64_t max_bytes = 0, next_max_bytes = 0;
  double ratio = 0;  // max / next max
};
std::optional<DominantPod> dominant_pod(const std::map<std::string, uint64_t>& pod_max);
// A sample's value as bytes: rounded, 0 for what is not positive (NaN too),
// UINT64_MAX from 2^64 on (llround's long long would overflow from 2^63).
uint64_t bytes_of(double v);

// Nearest-rank p95 and the max of plain values (concurrency, queue depth).
struct Spread {
  double p95 = 0, max = 0;
  size_t samples = 0;
};
Spread spread(std::vector<double> v);

// Per key, the largest value of an instant vector (requests, limits: the
// same in every pod of a template; the largest when a rollout is under way).
std::map<Key, double> max_per_key(const std::vector<Series>& s, const LabelNames& n);

}  // namespace ow::fleet
