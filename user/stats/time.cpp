#include "stats/time.hpp"
#include "util/text.hpp"

#include <chrono>
#include <cstdio>

#include "util/units.hpp"

namespace ow::stats {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

// Exactly n digits at s[pos..]; false otherwise.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// ".123" at s[pos..] -> nanoseconds; advances pos. Up to 9 digits.
bool fraction(std::string_view s, size_t& pos, int64_t& ns) {
  ns = 0;
  if (pos >= s.size() || s[pos] != '.') return true;
  size_t b = ++pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  size_t n = pos - b;
  if (n == 0 || n > 9) return false;
  for (size_t i = b; i < pos; ++i) ns = ns * 10 + (s[i] - '0');
  for (size_t i = n; i < 9; ++i) ns *= 10;
  return true;
}

Result<int64_t> to_ns(int64_t secs, int64_t frac_ns, std::string_view s) {
  if (secs > INT64_MAX / kNsPerSec - 1 || secs < INT64_MIN / kNsPerSec + 1)
    return app_error("time out of range (years 1678-2262): '" + excerpt(s) + "'");
  return secs * kNsPerSec + frac_ns;
}

}  // namespace

std::string format_rfc3339(int64_t ts_ns) {
  using namespace std::chrono;
  int64_t secs = ts_ns / kNsPerSec, ns = ts_ns % kNsPerSec;
  if (ns < 0) ns += kNsPerSec, --secs;
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) sod += 86400, --days;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  if (ns % 1'000'000 == 0)
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ns / 1'000'000));
  else if (ns % 1'000 == 0)
    std::snprintf(buf + n, sizeof buf - n, ".%06dZ", static_cast<int>(ns / 1'000));
  else
    std::snprintf(buf + n, sizeof buf - n, ".%09dZ", static_cast<int>(ns));
  return buf;
}

Result<int64_t> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  auto bad = [&](const char* why) { return app_error("bad RFC 3339 time '" + excerpt(s) + "': " + why); };
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return bad("expected YYYY-MM-DDThh:mm:ssZ");
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return bad("expected YYYY-MM-DDThh:mm:ssZ");
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad("no such date");
  if (h > 23 || mi > 59) return bad("no such time of day");
  if (sec > 59) return bad("seconds above 59 (leap seconds are not supported)");
  size_t pos = 19;
  int64_t frac = 0;
  if (!fraction(s, pos, frac)) return bad("fraction must have 1 to 9 digits");
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return bad("offset must be Z or +hh:mm");
    offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad("missing time zone (Z or +hh:mm)");
  }
  if (pos != s.size()) return bad("trailing characters");
  int64_t days = sys_days{ymd}.time_since_epoch().count();
  return to_ns(days * 86400 + h * 3600 + mi * 60 + sec - offset_s, frac, s);
}

Result<int64_t> parse_unix_seconds(std::string_view s) {
  auto bad = app_error("bad unix time '" + excerpt(s) + "': expected seconds like 1732320000 or 1732320000.5");
  size_t pos = 0;
  int64_t secs = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (secs > INT64_MAX / 10 / kNsPerSec) return app_error("unix time out of range: '" + excerpt(s) + "'");
    secs = secs * 10 + (s[pos++] - '0');
  }
  int64_t frac = 0;
  if (pos == 0 || !fraction(s, pos, frac) || pos != s.size()) return bad;
  return to_ns(secs, frac, s);
}

Result<int64_t> parse_time_arg(std::string_view s, int64_t now_ns) {
  const std::string forms = "RFC 3339 (2025-11-23T08:00:00Z), unix seconds (1763884800), now, or relative (-1h, -30m)";
  if (s == "now") return now_ns;
  if (!s.empty() && s[0] == '-') {
    auto d = parse_duration(s.substr(1));
    if (!d) return app_error("bad time '" + excerpt(s) + "': " + d.error().message() + "; expected " + forms);
    if (now_ns < INT64_MIN + static_cast<int64_t>(d->count()))
      return app_error("bad time '" + excerpt(s) + "': too far in the past");
    return now_ns - static_cast<int64_t>(d->count());
  }
  if (!s.empty() && s.find_first_not_of("0123456789.") == std::string_view::npos) {
    auto r = parse_unix_seconds(s);
    if (!r) return app_error(r.error().message() + "; expected " + forms);
    return r;
  }
  auto r = parse_rfc3339(s);
  if (!r) return app_error(r.error().message() + "; expected " + forms);
  return r;
}

}  // namespace ow::stats
