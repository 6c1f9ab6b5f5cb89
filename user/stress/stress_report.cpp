#include "stress/stress_report.hpp"

#include <cstdio>

#include "stress/report_common.hpp"
#include "util/units.hpp"

namespace ow::stress {

nlohmann::json sample_json(const StressSample& s, const std::string& cgroup) {
  nlohmann::json j{{"type", "sample"}, {"cgroup", cgroup}, {"elapsed_s", round_ms(s.elapsed_s)},
                   {"usage_bytes", s.usage.usage_bytes},
                   {"percent", percent_json(s.usage.usage_bytes, s.usage.limit_bytes)},
                   {"peak_bytes", s.peak_bytes}, {"held_bytes", s.held_bytes}, {"workers_alive", s.workers_alive},
                   {"max_events", s.max_events}, {"oom_kills", s.oom_kills},
                   {"worker_kills", s.tally ? s.tally->worker_kills() : 0},
                   {"restarts", s.tally ? s.tally->restarts() : 0}};
  put_limit(j, s.usage.limit_bytes);
  return j;
}

std::string sample_text(const StressSample& s) {
  char t[32];
  std::snprintf(t, sizeof t, "%7.1fs", s.elapsed_s);
  return std::string(t) + "  usage " + usage_text(s.usage.usage_bytes, s.usage.limit_bytes) + "  peak " +
         format_size(s.peak_bytes) + "  workers " + std::to_string(s.workers_alive) + "  max events " +
         std::to_string(s.max_events) + "  oom kills " + std::to_string(s.oom_kills) + "  restarts " +
         std::to_string(s.tally ? s.tally->restarts() : 0);
}

nlohmann::json result_json(const StressResult& r, const std::string& cgroup) {
  nlohmann::json j{{"type", "result"}, {"cgroup", cgroup}, {"strategy", strategy_name(r.strategy)},
                   {"target_bytes", r.target_bytes}, {"workers", r.workers}, {"duration_s", round_ms(r.duration_s)},
                   {"peak_bytes", r.peak_bytes}, {"max_events", r.max_events}, {"oom_kills", r.oom_kills},
                   {"worker_kills", r.worker_kills}, {"worker_failures", r.worker_failures}, {"restarts", r.restarts},
                   {"samples", r.samples}, {"interrupted", r.interrupted}};
  put_result_end(j, r.limit_bytes, r.error);
  return j;
}

std::string result_text(const StressResult& r, const std::string& cgroup) {
  const std::string dur = seconds_text(r.duration_s, 1);
  std::string s = "stress-memory " + std::string(strategy_name(r.strategy)) + " in " + cgroup + ": target " +
                  format_size(r.target_bytes) + " over " + std::to_string(r.workers) + " workers, limit " +
                  format_size(r.limit_bytes) + ", " + dur + (r.interrupted ? " (interrupted)" : "") + "\n";
  s += "  peak " + format_size(r.peak_bytes) + ", max events " + std::to_string(r.max_events) + ", OOM kills " +
       std::to_string(r.oom_kills) + ", workers killed " + std::to_string(r.worker_kills) + ", restarted " +
       std::to_string(r.restarts);
  if (r.worker_failures) s += ", failed " + std::to_string(r.worker_failures);
  if (!r.error.empty()) s += "\n  gave up: " + r.error;
  return s;
}

}  // namespace ow::stress
