#include "gomemlimit/usage_line.hpp"

#include "util/units.hpp"

namespace ow::gomemlimit {

std::string format_usage_line(const UsageLine& l) {
  std::string util = "n/a";
  if (l.limit_bytes > 0 && l.limit_bytes != kUnlimited)
    util = std::to_string(static_cast<unsigned>(static_cast<long double>(l.usage_bytes) * 100 / l.limit_bytes));
  return "memory usage stats: cgroup=" + l.cgroup + " totalUsage=" + format_size(l.usage_bytes) +
         " totalLimit=" + format_size(l.limit_bytes) + " ebpfUsage=" + format_size(l.ebpf_bytes) +
         " currentGOMEMLIMIT=" + (l.current.empty() ? std::string("n/a") : l.current) +
         " recommendedGOMEMLIMIT=" + (l.recommended ? format_size(*l.recommended) : std::string("none")) +
         " utilizationPercent=" + util;
}

}  // namespace ow::gomemlimit
