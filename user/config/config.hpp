// The `oomwatch run` configuration file (TOML). Every run flag has a key; the
// CLI loads the file first, then applies its flags over it, so a Config{}
// holds the defaults for both.
//
//   enforce = false                 # observe-only until true (dry_run in the audit)
//   hints = false                   # publish GOMEMLIMIT hints (xattr, /run file, pinned map)
//   manage = ["/kubepods"]          # subtrees whose children may be resized
//   reservation = "physical"        # or "strict"
//   rescue = true                   # false: react to OOM kills only, no rescue before the kill
//   audit_log = "/var/log/oomwatch/audit.jsonl"
//   interval = "1s"                 # durations: "500ms", "30s"; integers = seconds
//   cpu_budget = 1                  # percent of one core the agent keeps to by stretching interval; 0 = off
//   db = "/var/lib/oomwatch/history.db"
//   listen = "127.0.0.1:9721"       # /metrics for Prometheus on ADDR:PORT; "" (default) = off
//   metrics_max_cgroups = 2000      # at most this many cgroups on /metrics (managed first)
//   web_config_file = "/etc/oomwatch/web.yml"  # /metrics TLS and basic auth (exporter/web_config.hpp); needs listen
//   log_level = "info"              # trace, debug, info, warn, error, off
//   loop_priority = "fifo"          # event loop thread: fifo (SCHED_FIFO 1), nice (-10), normal (util/sched.hpp)
//   gomemlimit_interval = "30s"     # GOMEMLIMIT hints recomputed this often
//   v1_pause_deadline = "500ms"     # paused v1 cgroup gets its OOM killer back after this
//   min_step = "16M"                # sizes: "64K", "1.5G"; integers = bytes
//   cooldown = "30s"                # a receiver does not donate for this long; grants in it double
//   max_moved_per_minute = "1G"     # per receiver, defers pressure grants only; or "max"
//   horizon = "5s"                  # a grant covers growth rate * horizon
//   donor_window = "1h"             # donors' median/p95/max from this much history (the database)
//   donor_min_history = "5m"        # a sibling with less history does not donate
//   reserve = "5%"                  # fraction of the parent's limit ("5%", 0.05) or a size ("256M")
//   trace_max_duration = "5m"       # `oomwatch trace --duration` may not exceed this
//   trace_on_incident = "10s"       # rescue/OOM kill: trace the cgroup this long, audit its growers; 0 (default) = off
//
//   [recommend]                     # request/limit recommendations (docs/recommend.md)
//   interval = "5m"                 # recomputed this often, off the loop thread (needs db)
//   pods_log_dir = "/var/log"       # kubelet's pods/ and containers/ logs, for names
//   enforce = false                 # with --enforce: move --manage children's limits toward them
//
//   [[cgroup]]                      # per-cgroup settings, any number
//   path = "/kubepods/a"
//   floor = "64M"                   # never lowered below (default 0)
//   ceiling = "1G"                  # never raised above (default "max")
//   donate = true                   # may give memory to siblings (default true)
//   priority = 10                   # never donates to a lower priority (default 0)
//
// Errors: one message "FILE:LINE: KEY: problem", e.g.
//   "oomwatch.toml:12: cgroup[1].floor: bad size '64X' (want e.g. ...)".
// cgroup[N] counts from 0, in file order. Unknown keys are errors: a typo must
// not silently leave a default in force.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/kubelet_logs.hpp"
#include "policy/realloc.hpp"
#include "store/history.hpp"
#include "util/result.hpp"
#include "util/sched.hpp"
#include "view/agent_inputs.hpp"

namespace ow::config {

// The snapshot interval's floor, for --interval and the interval key alike:
// below it a walk's own cost starts to be the load it measures.
constexpr int64_t kMinIntervalNs = 50'000'000;
// --cpu-budget and cpu_budget: percent of one core, 0 (off) up to this.
constexpr double kMaxCpuBudgetPct = 100;
// "1", "0.5", "2%": the percent of --cpu-budget; a bad value is one line.
Result<double> parse_cpu_budget(std::string_view text);
// The log levels setup_logging() knows, for --log-level and log_level alike.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};

struct CgroupEntry {
  std::string path;  // relative to the memory hierarchy root, starts with "/"
  policy::CgroupPolicy policy;
  uint32_t line = 0;  // line of its path key, for later messages about this cgroup
};

// The policy's knobs (reservation, reserve, min_step, horizon, cooldown,
// max_moved_per_minute, donor_min_history) with their defaults come from
// policy::Knobs.
struct Config : policy::Knobs {
  bool enforce = false;
  bool hints = false;
  std::vector<std::string> manage;
  bool rescue = true;
  std::string audit_log = view::kDefaultAuditLog;
  int64_t interval_ns = 1'000'000'000;
  // The agent's CPU budget in percent of one core; 0: off (a fixed interval).
  // The snapshot interval stretches to keep within it (policy/cpu_budget.hpp).
  double cpu_budget_pct = 1.0;
  std::string db = store::kDefaultHistoryPath;
  std::string listen;  // "" = off; else a numeric ADDR:PORT (util/listen.hpp)
  size_t metrics_max_cgroups = 2000;
  std::string web_config_file;  // "" = plain HTTP, no authentication
  std::string log_level = "info";
  LoopPriority loop_priority = LoopPriority::fifo;
  int64_t gomemlimit_interval_ns = 30'000'000'000;
  int64_t v1_pause_deadline_ns = 500'000'000;
  int64_t donor_window_ns = 3'600'000'000'000;
  std::vector<CgroupEntry> cgroups;  // unique paths
  int64_t recommend_interval_ns = 300'000'000'000;  // [recommend] interval
  std::string recommend_pods_log_dir = k8s::kDefaultLogDir;  // [recommend] pods_log_dir
  bool recommend_enforce = false;                   // [recommend] enforce
  int64_t trace_max_duration_ns = 300'000'000'000;  // longest `oomwatch trace` (docs/trace.md)
  int64_t trace_on_incident_ns = 0;                 // 0: the agent never traces (docs/trace.md)
};

// Parses text; name is what messages call the file (usually its path).
Result<Config> parse_config(std::string_view text, const std::string& name);
// Reads path and parses it; a read failure names the path and errno.
Result<Config> load_config(const std::string& path);

// The policy knobs of cfg; page size and machine memory are the agent's to fill.
policy::Params to_params(const Config& cfg);
// The [[cgroup]] settings for path, or the defaults (CgroupPolicy{}).
policy::CgroupPolicy cgroup_policy(const Config& cfg, const std::string& path);

}  // namespace ow::config
