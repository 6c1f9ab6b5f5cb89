#include "util/units.hpp"
#include "util/text.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ow {
namespace {

// Splits "1.5GiB" into 1.5 and "GiB"; rejects signs, empty numbers, junk.
bool split_number(std::string_view s, double& num, std::string& unit) {
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return false;
  // strtod, not stod: a number too large or too small for a double gives
  // inf or 0 (refused or rounded below), where stod would throw.
  num = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  unit.clear();
  for (char c : s.substr(i)) {
    if (c == ' ') continue;
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view s) {
  double num;
  std::string unit;
  if (s == "max" || s == "unlimited") return kUnlimited;
  if (!split_number(s, num, unit))
    return app_error("bad size '" + excerpt(s) + "' (want e.g. 4096, 64K, 128M, 1.5GiB)");
  static const struct { const char* u; double mul; } units[] = {
      {"", 1}, {"b", 1},
      {"k", 1024.0}, {"kb", 1024.0}, {"ki", 1024.0}, {"kib", 1024.0},
      {"m", 1048576.0}, {"mb", 1048576.0}, {"mi", 1048576.0}, {"mib", 1048576.0},
      {"g", 1073741824.0}, {"gb", 1073741824.0}, {"gi", 1073741824.0}, {"gib", 1073741824.0},
      {"t", 1099511627776.0}, {"tb", 1099511627776.0}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0},
      // format_size() prints PiB for the largest figures: what it writes must read back.
      {"p", 1125899906842624.0}, {"pb", 1125899906842624.0}, {"pi", 1125899906842624.0}, {"pib", 1125899906842624.0},
  };
  for (const auto& u : units) {
    if (unit == u.u) {
      double v = num * u.mul;
      if (v >= 1.8e19) return app_error("size '" + excerpt(s) + "' is too large");
      // Not llround: its long long overflows from 2^63 on ("17363817363884884800" came back as 2^63).
      return static_cast<uint64_t>(std::round(v));
    }
  }
  return app_error("bad size unit in '" + excerpt(s) + "' (use K, M, G, T, P or KiB, MiB, GiB, TiB, PiB)");
}

std::string format_size(uint64_t bytes) {
  if (bytes == kUnlimited) return "max";
  static const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1024.0 && i < 5) {
    v /= 1024.0;
    ++i;
  }
  char buf[32];
  if (i == 0)
    std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(bytes));
  else if (v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f%s", v, names[i]);
  else
    std::snprintf(buf, sizeof buf, "%.1f%s", v, names[i]);
  return buf;
}

Result<std::chrono::nanoseconds> parse_duration(std::string_view s) {
  double num;
  std::string unit;
  if (!split_number(s, num, unit))
    return app_error("bad duration '" + excerpt(s) + "' (want e.g. 500ms, 30s, 10m, 2h)");
  static const struct { const char* u; double ns; } units[] = {
      {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"", 1e9}, {"s", 1e9},
      {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9},
  };
  for (const auto& u : units)
    if (unit == u.u) {
      double v = num * u.ns;
      if (v > 9.0e18) return app_error("duration '" + excerpt(s) + "' is too long");
      return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(v)));
    }
  return app_error("bad duration unit in '" + excerpt(s) + "' (use ms, s, m, h, d)");
}

std::string format_duration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  char buf[32];
  if (ns % 3600000000000LL == 0 && ns)
    std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(ns / 3600000000000LL));
  else if (ns % 60000000000LL == 0 && ns)
    std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(ns / 60000000000LL));
  else if (ns % 1000000000LL == 0)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(ns / 1000000000LL));
  else if (ns % 1000000LL == 0)
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ns / 1000000LL));
  else if (ns >= 1000000LL)
    std::snprintf(buf, sizeof buf, "%.3fms", static_cast<double>(ns) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  return buf;
}

}  // namespace ow
