// Replay inputs from the history database: each selected cgroup's working
// set over [now - window, now] as points (raw samples; minutes older than
// the raw tier by their bucket's maximum, which can only overstate), OOM
// kills from the raw tier's counters, then the seed's rule (its
// recommendation over the same data), VPA's rule and the current limit
// replayed on them (recommend/replay.hpp).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "advisor/gather.hpp"
#include "recommend/replay_report.hpp"

namespace ow::advisor {

// Each cgroup's points over [now - window, now], ascending: raw samples (a
// kill the oom_kill counter shows is on the sample after it), minutes older
// than the raw tier by their bucket's maximum, and each stored kernel kill
// event as a kill point (then the counter's guesses are dropped).
struct PointsByCgroup {
  std::map<std::string, std::vector<recommend::Point>> points;
  std::map<std::string, uint64_t> from_buckets;  // points known only by their bucket's maximum
};
Result<PointsByCgroup> read_points(const RecommendQuery& q, const RecommendSources& src);

Result<std::vector<recommend::ReplayReport>> gather_replays(const RecommendQuery& q, const RecommendSources& src);

}  // namespace ow::advisor
