#include "stress/limit_report.hpp"

#include <signal.h>

#include <cstdio>

#include "stress/report_common.hpp"
#include "util/units.hpp"

namespace ow::stress {
namespace {

std::string strategy_note(Strategy s) {
  switch (s) {
    case Strategy::File: return "file pages are page cache, which reclaim can drop";
    case Strategy::Mixed: return "its anon and shmem thirds cannot be reclaimed without swap";
    default: return std::string(strategy_name(s)) + " pages cannot be reclaimed without swap";
  }
}

std::string outcome_text(const LimitTestResult& r) {
  if (r.interrupted) return "interrupted (Ctrl-C) after charging " + format_size(r.allocated_bytes);
  if (r.oom_killed)
    return "OOM-killed by the kernel (SIGKILL, cgroup oom_kill +" + std::to_string(r.oom_kills) + ") after charging " +
           format_size(r.allocated_bytes) + ": " + strategy_note(r.strategy);
  if (!r.error.empty()) return "worker failed (exit " + std::to_string(r.exit_code) + "): " + r.error;
  if (r.exit_code == 128 + SIGKILL)
    return "worker got SIGKILL but the cgroup counted no OOM kill: killed by something else";
  if (r.exit_code != 0) return "worker ended with status " + std::to_string(r.exit_code);
  std::string s = "allocated everything and released it, no OOM kill";
  if (r.oom_kills) s += " of the worker (the cgroup counted " + std::to_string(r.oom_kills) + " other OOM kills)";
  return s;
}

}  // namespace

nlohmann::json progress_json(const LimitTestProgress& p, const LimitTestConfig& cfg, const std::string& cgroup) {
  nlohmann::json j{{"type", "progress"},
                   {"cgroup", cgroup},
                   {"strategy", strategy_name(cfg.strategy)},
                   {"phase", p.phase},
                   {"worker_pid", p.worker_pid},
                   {"elapsed_s", round_ms(p.elapsed_s)},
                   {"alloc_bytes", cfg.alloc_bytes},
                   {"allocated_bytes", p.allocated_bytes},
                   {"usage_bytes", p.usage.usage_bytes}};
  put_limit(j, p.usage.limit_bytes);
  j["percent"] = percent_json(p.usage.usage_bytes, p.usage.limit_bytes);
  j["peak_bytes"] = p.usage.peak_bytes;
  j["max_events"] = p.usage.events.max;
  j["oom_kill_events"] = p.usage.events.oom_kill;
  return j;
}

std::string progress_text(const LimitTestProgress& p, const LimitTestConfig& cfg) {
  return std::string(p.phase) + " " + strategy_name(cfg.strategy) + " " + format_size(p.allocated_bytes) + "/" +
         format_size(cfg.alloc_bytes) + "  usage " + usage_text(p.usage.usage_bytes, p.usage.limit_bytes) +
         "  peak " + format_size(p.usage.peak_bytes);
}

nlohmann::json result_json(const LimitTestResult& r, const std::string& cgroup) {
  nlohmann::json j{{"type", "result"},
                   {"cgroup", cgroup},
                   {"strategy", strategy_name(r.strategy)},
                   {"alloc_bytes", r.alloc_bytes},
                   {"allocated_bytes", r.allocated_bytes},
                   {"peak_bytes", r.peak_bytes},
                   {"peak_source", r.peak_from_watermark ? "watermark" : "sampled"},
                   {"oom_killed", r.oom_killed},
                   {"oom_kills", r.oom_kills},
                   {"exit_code", r.exit_code},
                   {"duration_s", round_ms(r.duration_s)},
                   {"interrupted", r.interrupted}};
  put_result_end(j, r.limit_bytes, r.error);
  return j;
}

std::string result_text(const LimitTestResult& r, const std::string& cgroup) {
  const std::string dur = seconds_text(r.duration_s, 2);
  std::string peak = format_size(r.peak_bytes);
  if (auto pct = percent_of(r.peak_bytes, r.limit_bytes)) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " (%.1f%% of the limit)", *pct);
    peak += buf;
  }
  return "test-memory " + std::string(strategy_name(r.strategy)) + " in " + cgroup + ": limit " +
         format_size(r.limit_bytes) + ", asked " + format_size(r.alloc_bytes) + "\n" + "  allocated " +
         format_size(r.allocated_bytes) + ", peak " + peak + ", " + dur + "\n" + "  outcome: " + outcome_text(r);
}

}  // namespace ow::stress
