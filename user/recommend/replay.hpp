// Replay: how a proposed (request, limit) would have fared on a recorded
// working-set series, and VPA's rule on the same data for comparison. Pure.
//
//   samples_above_limit   samples whose working set exceeds the limit;
//   oom_episodes          runs of consecutive such samples, each counted once
//                         (a would-be OOM kill), and each recorded kill at a
//                         limit at or above this one (the demand reached the
//                         limit in force then: this one would not have held);
//   time_above_request_ns each sample holds until the next one: the sum of
//                         those intervals whose sample is above the request
//                         (the last sample adds nothing);
//   avg_over_request      mean over all samples of request − ws where positive
//                         (0 where the sample is at or above the request).
// VPA (its recommender's memory rule, node-local form): target = p90 of the
// daily peaks (UTC days, nearest rank) × 1.15; an OOM kill in the data bumps it
// to max(used + 100Mi, used × 1.20); never below 250Mi. Here the target is
// used as both request and limit.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "recommend/rules.hpp"

namespace ow::recommend {

struct Point {
  int64_t ts_ns = 0;
  uint64_t ws_bytes = 0;
  uint64_t oom_used_bytes = 0;  // usage at an OOM kill seen at this point; 0: none
  // A recorded OOM kill, not a sample: ws_bytes = the limit in force when
  // the kernel killed (the demand reached it), oom_used_bytes = that
  // limit's usage then. It counts only towards oom_episodes.
  bool kill = false;
};

struct ReplayResult {
  uint64_t samples = 0, samples_above_limit = 0, oom_episodes = 0;
  int64_t time_above_request_ns = 0;
  uint64_t avg_over_request_bytes = 0;  // rounded to the nearest byte
};

// points: ascending ts.
ReplayResult replay(std::span<const Point> points, uint64_t request_bytes, uint64_t limit_bytes);

struct VpaRules {
  uint32_t peak_pct = 90;
  uint32_t margin_pm = 1150;  // × 1.15
  uint64_t oom_add_bytes = 100 * kMi;
  uint32_t oom_pm = 1200;
  uint64_t floor_bytes = 250 * kMi;
};

struct VpaFigure {
  uint64_t target_bytes = 0;
  uint64_t p90_daily_peak_bytes = 0;
  uint64_t days = 0;
  bool oom_bumped = false;
  std::string rationale;
};

// points non-empty, ascending ts.
VpaFigure vpa_rule(std::span<const Point> points, const VpaRules& v = {});

}  // namespace ow::recommend
