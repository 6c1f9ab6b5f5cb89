#include "agent/hint_text.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cgroup/hierarchy.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::agent {

namespace hints {

std::optional<uint64_t> parse_gomemlimit_env(std::string_view s) {
  if (s == "off") return kUnlimited;
  std::string_view num = s;
  uint64_t mult = 1;
  if (s.size() > 3 && s.substr(s.size() - 2) == "iB") {
    switch (s[s.size() - 3]) {
      case 'K': mult = 1ull << 10; break;
      case 'M': mult = 1ull << 20; break;
      case 'G': mult = 1ull << 30; break;
      case 'T': mult = 1ull << 40; break;
      default: return std::nullopt;
    }
    num = s.substr(0, s.size() - 3);
  } else if (s.size() > 1 && s.back() == 'B') {
    num = s.substr(0, s.size() - 1);
  }
  if (num.empty() || !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  uint64_t v;
  if (!parse_u64(num, v)) return std::nullopt;
  if (v > static_cast<uint64_t>(INT64_MAX) / mult) return std::nullopt;  // the runtime's range
  return v * mult;
}

bool under_roots(const std::string& rel, const std::vector<std::string>& roots) {
  if (roots.empty()) return true;
  for (const auto& r : roots)
    if (cg::is_under(rel, r)) return true;
  return false;
}

namespace {
std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : rel.substr(0, slash);
}
}  // namespace

std::unordered_map<std::string, uint64_t> subtree_sums(const std::vector<std::pair<std::string, uint64_t>>& charges) {
  std::unordered_map<std::string, uint64_t> out;
  for (const auto& [path, bytes] : charges) {
    if (path.empty() || path[0] != '/') continue;  // cgroup gone: charged to nobody we hint
    for (std::string cur = path;; cur = parent_of(cur)) {
      out[cur] += bytes;
      if (cur == "/") break;
    }
  }
  return out;
}

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

std::string describe_env_gomemlimit(const char* env_value) {
  if (!env_value || !*env_value) return "unset";
  auto v = parse_gomemlimit_env(env_value);
  if (!v) return std::string("invalid(") + env_value + ")";
  if (*v == kUnlimited) return "off";
  return format_size(*v);
}

}  // namespace hints

}  // namespace ow::agent
