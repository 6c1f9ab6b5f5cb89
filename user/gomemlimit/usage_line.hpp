// The hint log line (docs/cli.md) of one cgroup. Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace ow::gomemlimit {

struct UsageLine {
  std::string cgroup;
  uint64_t usage_bytes = 0;
  uint64_t limit_bytes = 0;  // the effective limit
  uint64_t ebpf_bytes = 0;
  std::string current;  // current GOMEMLIMIT as printed: "64MiB", "off", "unset", "n/a", "invalid(x)"
  std::optional<uint64_t> recommended;  // nullopt: no positive hint
};
// "memory usage stats: cgroup=/a totalUsage=... utilizationPercent=31"
std::string format_usage_line(const UsageLine& l);

}  // namespace ow::gomemlimit
