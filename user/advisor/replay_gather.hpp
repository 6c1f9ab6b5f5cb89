// Replay inputs from the history database: each selected cgroup's working
// set over [now - window, now] as points (raw samples; minutes older than
// the raw tier by their bucket's maximum, which can only overstate), OOM
// kills from the raw tier's counters, then the seed's rule (its
// recommendation over the same data), VPA's rule and the current limit
// replayed on them (recommend/replay.hpp).
#pragma once
#include <vector>

#include "advisor/gather.hpp"
#include "recommend/replay_report.hpp"

namespace ow::advisor {

Result<std::vector<recommend::ReplayReport>> gather_replays(const RecommendQuery& q, const RecommendSources& src);

}  // namespace ow::advisor
