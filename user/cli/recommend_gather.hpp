// Gathers what `oomwatch recommend` presents: window figures from the history
// database (read-only), current limits live from cgroupfs (else the last
// recorded one), requests from v2 memory.min or a pods file, Kubernetes names
// from the kubelet's log directories, OOM kills from the raw tier. Then runs
// the pure rules (recommend/) on them.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "k8s/kubelet_logs.hpp"
#include "k8s/pods.hpp"
#include "recommend/report.hpp"
#include "store/history.hpp"

namespace ow::cli {

struct RecommendQuery {
  std::vector<std::string> selectors;  // normalized --cgroup paths; empty: all
  int64_t now_ns = 0, window_ns = 0, short_window_ns = 0;
  recommend::Rules rules;
};

struct RecommendSources {
  store::HistoryStore* history = nullptr;
  const cg::Hierarchy* hierarchy = nullptr;  // nullptr: no live cgroupfs (a copied database)
  const k8s::KubeletNames* names = nullptr;
  const k8s::PodResources* pods = nullptr;   // nullptr: no --pods
};

// One report per cgroup with working-set data in the long window (empty: none).
Result<std::vector<recommend::Report>> gather_recommendations(const RecommendQuery& q, const RecommendSources& src);

}  // namespace ow::cli
