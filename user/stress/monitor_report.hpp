// monitor's output: one line per sample of one cgroup. Pure. JSON keys:
//   type "sample", ts (RFC 3339 UTC), elapsed_s, cgroup, version ("v1"|"v2"),
//   usage_bytes, limit_bytes (null when unlimited), limit ("max" or "64MiB"),
//   percent (null when unlimited), peak_bytes (0: the kernel keeps no
//   watermark), events {max, oom, oom_kill, oom_group_kill, high, low},
//   under_oom (v1) .
// On v1, events.max is memory.failcnt, oom_kill comes from memory.oom_control,
// and the counters v1 does not have (oom, oom_group_kill, high, low) are null,
// as is under_oom on v2.
#pragma once
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "cgroup/hierarchy.hpp"

namespace ow::stress {

struct MonitorSample {
  std::string cgroup;
  cg::Version version = cg::Version::V1;
  double elapsed_s = 0;
  std::chrono::system_clock::time_point ts;
  cg::MemUsage usage;
};

nlohmann::ordered_json monitor_json(const MonitorSample& s);
std::string monitor_text(const MonitorSample& s);
std::string rfc3339_ms(std::chrono::system_clock::time_point t);

}  // namespace ow::stress
