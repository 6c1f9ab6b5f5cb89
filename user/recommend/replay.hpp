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
// VPA: its recommender's memory recommendation (vpa_model.hpp) on the same
// points, taken as one container's samples and OOM kills; its target is the
// request and its limit keeps the current limit/request ratio (none when there
// is no limit now).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "recommend/rules.hpp"
#include "recommend/vpa_model.hpp"

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

struct VpaFigure {
  uint64_t target_bytes = 0;            // the request VPA would set
  std::optional<uint64_t> limit_bytes;  // nullopt: VPA sets none
  VpaRecommendation model;              // its figures: bounds, histogram, confidence, OOMs
  std::string rationale;
};

// The samples (kill points excluded) as one container's, seen at now_ns; each
// kill point and each sample's counted kill (oom_used_bytes) an OOM event at
// its time. request/limit: the current ones (nullopt: unknown or none).
// Points non-empty.
VpaFigure vpa_rule(std::span<const Point> points, std::optional<uint64_t> request, std::optional<uint64_t> limit,
                   int64_t now_ns);

}  // namespace ow::recommend
