#include "recommend/quantity.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace ow::recommend {

std::string quantity(uint64_t bytes) {
  static const char* names[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
  for (int i = 0; i < 6; ++i) {
    uint64_t unit = 1ull << (10 * (6 - i));
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{}{}", bytes / unit, names[i]);
  }
  return std::to_string(bytes);
}

Result<uint64_t> parse_quantity(std::string_view s) {
  auto bad = [&](const char* why) { return app_error("bad quantity '" + excerpt(s) + "' (" + why + ")"); };
  size_t i = 0;
  unsigned __int128 num = 0, den = 1;
  bool digits = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, digits = true) {
    num = num * 10 + (s[i] - '0');
    if (num > UINT64_MAX) return bad("too large");
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, digits = true) {
      if (den >= 1'000'000'000'000'000'000ull || num > UINT64_MAX / 10) continue;  // past 1e-18: no byte changes
      num = num * 10 + (s[i] - '0');
      den *= 10;
    }
  }
  if (!digits) return bad("want a number such as 256Mi, 1Gi or 500M");
  std::string_view suf = s.substr(i);
  unsigned __int128 mul = 1, div = 1;
  static const struct { const char* s; uint64_t mul, div; } units[] = {
      {"", 1, 1},          {"Ki", 1ull << 10, 1}, {"Mi", 1ull << 20, 1}, {"Gi", 1ull << 30, 1},
      {"Ti", 1ull << 40, 1}, {"Pi", 1ull << 50, 1}, {"Ei", 1ull << 60, 1}, {"k", 1000, 1},
      {"M", 1'000'000, 1}, {"G", 1'000'000'000, 1}, {"T", 1'000'000'000'000, 1},
      {"P", 1'000'000'000'000'000, 1}, {"E", 1'000'000'000'000'000'000, 1}, {"m", 1, 1000},
      {"u", 1, 1'000'000}, {"n", 1, 1'000'000'000}};
  bool found = false;
  for (const auto& u : units)
    if (suf == u.s) {
      mul = u.mul;
      div = u.div;
      found = true;
      break;
    }
  if (!found && !suf.empty() && (suf[0] == 'e' || suf[0] == 'E')) {
    int exp = 0;
    size_t j = 1;
    if (j >= suf.size()) return bad("exponent without digits");
    for (; j < suf.size() && suf[j] >= '0' && suf[j] <= '9'; ++j)
      if (exp <= 18) exp = exp * 10 + (suf[j] - '0');  // past 18 it is refused below; no int overflow
    if (j != suf.size() || exp > 18) return bad("exponent must be 0 to 18");
    for (int k = 0; k < exp; ++k) mul *= 10;
    found = true;
  }
  if (!found) return bad("unknown suffix; use Ki, Mi, Gi, Ti, k, M, G, T or an exponent");
  unsigned __int128 top = num * mul, bottom = den * div;
  unsigned __int128 bytes = (top + bottom - 1) / bottom;
  if (bytes > UINT64_MAX) return bad("too large");
  return static_cast<uint64_t>(bytes);
}

std::string duration_text(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  if (s <= 0) return "0s";
  std::string out;
  if (s >= 3600) out += fmt::format("{}h", s / 3600);
  if (s % 3600 >= 60) out += fmt::format("{}m", s % 3600 / 60);
  if (s % 60) out += fmt::format("{}s", s % 60);
  return out;
}

}  // namespace ow::recommend
