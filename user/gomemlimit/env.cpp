#include "gomemlimit/env.hpp"

#include <algorithm>
#include <cstdint>

#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::gomemlimit {

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

std::string describe_env_gomemlimit(const char* env_value) {
  if (!env_value || !*env_value) return "unset";
  auto v = parse_gomemlimit_env(env_value);
  if (!v) return std::string("invalid(") + env_value + ")";
  if (*v == kUnlimited) return "off";
  return format_size(*v);
}

}  // namespace ow::gomemlimit
