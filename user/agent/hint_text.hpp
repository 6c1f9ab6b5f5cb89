// Pure helpers of the GOMEMLIMIT hints: the Go runtime's GOMEMLIMIT syntax,
// subtree sums of eBPF map charges, and the usage line the seed's agent logs.
// No I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ow::agent {

namespace hints {
// GOMEMLIMIT in the Go runtime's syntax: bytes, "B", "KiB".."TiB", "off"
// (-> kUnlimited). nullopt when the runtime would reject it.
std::optional<uint64_t> parse_gomemlimit_env(std::string_view s);
// rel is one of roots or below one (empty roots: everything).
bool under_roots(const std::string& rel, const std::vector<std::string>& roots);
// (cgroup path, bytes) per map -> bytes per subtree: each map counts for its
// cgroup and every ancestor up to "/".
std::unordered_map<std::string, uint64_t> subtree_sums(const std::vector<std::pair<std::string, uint64_t>>& charges);

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
// This process's GOMEMLIMIT as format_usage_line prints it.
std::string describe_env_gomemlimit(const char* env_value);
}  // namespace hints

}  // namespace ow::agent
