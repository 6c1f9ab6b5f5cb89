#include "stress/monitor_report.hpp"

#include <ctime>

#include "stress/report_common.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::stress {

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

nlohmann::ordered_json monitor_json(const MonitorSample& s) {
  using ojson = nlohmann::ordered_json;
  const auto& u = s.usage;
  const auto& e = u.events;
  bool v2 = s.version == cg::Version::V2;
  auto v2_only = [&](uint64_t v) { return v2 ? ojson(v) : ojson(nullptr); };
  // Keys in the order docs/cli.md ("monitor") shows them.
  ojson j;
  j["type"] = "sample";
  j["ts"] = rfc3339_ms(s.ts);
  j["elapsed_s"] = round_ms(s.elapsed_s);
  j["cgroup"] = printable(s.cgroup);
  j["version"] = cg::version_name(s.version);
  j["usage_bytes"] = u.usage_bytes;
  put_limit(j, u.limit_bytes);
  j["percent"] = ojson(percent_json(u.usage_bytes, u.limit_bytes));
  j["peak_bytes"] = u.peak_bytes;
  j["events"] = ojson{{"max", e.max},           {"oom", v2_only(e.oom)},   {"oom_kill", e.oom_kill},
                      {"oom_group_kill", v2_only(e.oom_group_kill)}, {"high", v2_only(e.high)}, {"low", v2_only(e.low)}};
  j["under_oom"] = v2 ? ojson(nullptr) : ojson(e.under_oom);
  return j;
}

std::string monitor_text(const MonitorSample& s) {
  const auto& u = s.usage;
  bool v2 = s.version == cg::Version::V2;
  std::string t = rfc3339_ms(s.ts).substr(11, 12);  // HH:MM:SS.mmm
  std::string line = t + "  " + s.cgroup + "  usage " + usage_text(u.usage_bytes, u.limit_bytes) + "  peak " +
                     format_size(u.peak_bytes) + "  " + (v2 ? "max " : "failcnt ") + std::to_string(u.events.max);
  if (v2) line += "  oom " + std::to_string(u.events.oom);
  line += "  oom_kill " + std::to_string(u.events.oom_kill);
  if (!v2 && u.events.under_oom) line += "  UNDER OOM (paused)";
  return line;
}

}  // namespace ow::stress
