// What the fleet path keeps between runs (--state FILE), so that the
// enforcement safeguards' cooldown and the hysteresis against the last
// recommendation hold across one-shot runs. Pure text <-> data; the CLI
// reads the file (missing: no history) and replaces it atomically.
//   {"version": 1, "workloads": {"shop/web": {
//      "last_applied_ms": T,                  // the last patch marked "apply": true
//      "containers": {"app": {
//        "recommended": {"request_bytes": N, "limit_bytes": N, "at_ms": T},  // the recommendation in force
//        "applied":     {"request_bytes": N|null, "limit_bytes": N|null, "at_ms": T}}},
//      "knative": {"target": N|null, "container_concurrency": N|null, "at_ms": T}}}}
// Times are unix milliseconds of the run's end (--end). An "at" beside each
// is for people and not read back.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "util/result.hpp"

namespace ow::fleet {

inline constexpr int kStateVersion = 1;

struct StoredFigures {
  std::optional<uint64_t> request_bytes, limit_bytes;
  int64_t at_ms = 0;
};
struct StoredContainer {
  std::optional<StoredFigures> recommended, applied;
};
struct StoredKnative {
  std::optional<int64_t> target, container_concurrency;
  int64_t at_ms = 0;
};
struct StoredWorkload {
  std::optional<int64_t> last_applied_ms;
  std::map<std::string, StoredContainer> containers;
  std::optional<StoredKnative> knative;
};
struct FleetState {
  std::map<std::string, StoredWorkload> workloads;  // "ns/workload"
};

// Errors name the key that is wrong ("shop/web.containers.app.applied.at_ms is not an integer").
Result<FleetState> parse_state(const std::string& text);
std::string state_text(const FleetState& s);  // JSON, indented, ending in a newline

}  // namespace ow::fleet
