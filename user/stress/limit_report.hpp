// test-memory's output: progress lines and the one result object. Pure.
// JSON keys (bytes as integers):
//   progress: type "progress", cgroup, strategy, phase, worker_pid, elapsed_s,
//             alloc_bytes, allocated_bytes, usage_bytes, limit_bytes|null,
//             limit ("max" when unlimited), percent|null, peak_bytes,
//             max_events, oom_kill_events (the cgroup's counters)
//   result:   type "result", limit_bytes|null, limit, alloc_bytes, peak_bytes,
//             oom_killed, exit_code, strategy, duration_s, plus cgroup,
//             allocated_bytes, oom_kills, peak_source ("watermark"|"sampled"),
//             interrupted, error (only when the worker failed)
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "stress/limit_test.hpp"

namespace ow::stress {

nlohmann::json progress_json(const LimitTestProgress& p, const LimitTestConfig& cfg, const std::string& cgroup);
// One line for a terminal (rewritten in place with \r by the caller).
std::string progress_text(const LimitTestProgress& p, const LimitTestConfig& cfg);

nlohmann::json result_json(const LimitTestResult& r, const std::string& cgroup);
// A few readable lines, the outcome spelled out.
std::string result_text(const LimitTestResult& r, const std::string& cgroup);

}  // namespace ow::stress
