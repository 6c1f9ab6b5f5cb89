// `oomwatch recommend --replay`: per cgroup, how the seed's rule, VPA's rule
// and the current limit would have fared on the recorded working set
// (replay.hpp), side by side. JSON, YAML and a table. Pure.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "recommend/replay.hpp"
#include "recommend/report.hpp"

namespace ow::recommend {

struct ReplayRow {
  std::optional<uint64_t> request_bytes, limit_bytes;  // nullopt: unknown (current only)
  std::optional<ReplayResult> result;                  // nullopt: no limit to replay against
  std::string rationale;
};

struct ReplayReport {
  std::string cgroup, name;
  int64_t from_ns = 0, to_ns = 0;
  uint64_t points = 0, bucket_points = 0;  // bucket_points: minutes known only by their maximum
  uint64_t recorded_kills = 0;             // OOM kills at its limit in the window (advisor/kills.hpp)
  ReplayRow seed, vpa, current;
};

std::string replays_json(const std::vector<ReplayReport>& rs);  // {"replay":[...]}
std::string replays_yaml(const std::vector<ReplayReport>& rs);
std::string replays_table(const std::vector<ReplayReport>& rs);

}  // namespace ow::recommend
