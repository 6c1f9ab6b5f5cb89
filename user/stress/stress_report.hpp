// stress-memory's output. Pure. JSON keys (bytes as integers):
//   sample: type "sample", cgroup, elapsed_s, usage_bytes, limit_bytes|null,
//           limit, percent|null, peak_bytes, held_bytes, workers_alive,
//           max_events, oom_kills (both since the start), worker_kills, restarts
//   result: type "result", cgroup, strategy, limit_bytes|null, limit,
//           target_bytes, workers, duration_s, peak_bytes, max_events,
//           oom_kills, worker_kills, worker_failures, restarts, samples,
//           interrupted, error (only when the run gave up)
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "stress/stress_run.hpp"

namespace ow::stress {

nlohmann::json sample_json(const StressSample& s, const std::string& cgroup);
std::string sample_text(const StressSample& s);
nlohmann::json result_json(const StressResult& r, const std::string& cgroup);
std::string result_text(const StressResult& r, const std::string& cgroup);

}  // namespace ow::stress
