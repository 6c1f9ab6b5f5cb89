// Gathers what a recommendation needs, for `oomwatch recommend` and the
// agent's worker alike: window figures from the history database (read-only),
// current limits live from cgroupfs (else the last recorded one), requests
// from v2 memory.min or a pods file, Kubernetes names from the kubelet's log
// directories, OOM kills from the raw tier, the last stored recommendation.
// Then runs the pure rules and gates (recommend/) on them.
// Hysteresis compares against the last stored recommendation when there is
// one (so "new" means it moved), else against the current values; the
// cooldown runs from the last stored one.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "k8s/kubelet_logs.hpp"
#include "k8s/pods.hpp"
#include "recommend/report.hpp"
#include "store/history.hpp"

namespace ow::advisor {

// The short window when none is asked for: 15 minutes, or the long window
// when that is shorter (a node with a few minutes of history).
inline constexpr int64_t kDefaultShortWindowNs = 15LL * 60 * 1'000'000'000;

struct RecommendQuery {
  std::vector<std::string> selectors;  // normalized --cgroup paths; empty: all
  // The long window is [now - window, now], the short one the last
  // min(short_window, window) of it; a replay passes its --to as now.
  int64_t now_ns = 0, window_ns = 0, short_window_ns = 0;
  recommend::Rules rules;
  // Both windows' figures from the buckets wherever they exist
  // (HistoryStore::window_stats use_buckets): the agent's periodic worker.
  bool use_buckets = false;
  // The RSS floor from the cgroup's anonymous memory now (memory.stat: v1
  // total_rss, v2 anon): for a window that ends now. The history database
  // keeps no RSS figure, so this reading is the node's only one.
  bool rss_floor_now = false;
};

struct RecommendSources {
  store::HistoryStore* history = nullptr;
  const cg::Hierarchy* hierarchy = nullptr;  // nullptr: no live cgroupfs (a copied database)
  const k8s::KubeletNames* names = nullptr;
  const k8s::PodResources* pods = nullptr;   // nullptr: no --pods
  // Last stored recommendation per path (nullptr: none known).
  const std::map<std::string, store::RecommendationRow>* last = nullptr;
};

// One report per cgroup with working-set data in the long window (empty: none).
Result<std::vector<recommend::Report>> gather_recommendations(const RecommendQuery& q, const RecommendSources& src);

}  // namespace ow::advisor
