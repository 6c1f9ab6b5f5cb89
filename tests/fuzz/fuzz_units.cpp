// libFuzzer target: sizes and durations (util/units.hpp) and times
// (stats/time.hpp), the values users type on the command line and in the
// config file and that sample files carry. The whole input is one value given
// to every parser; what parses must survive its own formatter:
//   size:     format_size() reads back within its rounding (one decimal);
//   duration: format_duration() reads back within its rounding (1 us);
//   time:     format_rfc3339() reads back exactly.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "stats/time.hpp"
#include "util/units.hpp"
#include "fuzz_check.hpp"

using namespace ow;
using ow::fuzz::all_digits;


namespace {

bool near(double a, double b, double abs_tol, double rel_tol) {
  return std::fabs(a - b) <= abs_tol + rel_tol * std::fmax(std::fabs(a), std::fabs(b));
}

void fuzz_size(std::string_view s) {
  auto r = parse_size(s);
  if (!r) return;
  uint64_t v = *r;
  if (v == kUnlimited) {
    CHECK(format_size(v) == "max");
    return;
  }
  // A plain byte count is that number (exactly, while a double holds it).
  if (all_digits(s)) {
    double want = std::strtod(std::string(s).c_str(), nullptr);
    CHECK(near(static_cast<double>(v), want, 0.5, 1e-15));
  }
  std::string f = format_size(v);
  auto back = parse_size(f);  // PiB included: what format_size writes reads back
  CHECK(back.ok());
  CHECK(near(static_cast<double>(*back), static_cast<double>(v), 1, 0.05));
}

void fuzz_duration(std::string_view s) {
  auto r = parse_duration(s);
  if (!r) return;
  int64_t ns = r->count();
  CHECK(ns >= 0);
  if (all_digits(s)) {  // bare number: seconds
    double want = std::strtod(std::string(s).c_str(), nullptr) * 1e9;
    CHECK(near(static_cast<double>(ns), want, 0.5, 1e-15));
  }
  std::string f = format_duration(*r);
  auto back = parse_duration(f);
  CHECK(back.ok());
  CHECK(near(static_cast<double>(back->count()), static_cast<double>(ns), 1000, 1e-15));
}

void check_time(int64_t ts) {
  std::string f = stats::format_rfc3339(ts);
  auto back = stats::parse_rfc3339(f);
  CHECK(back.ok() && *back == ts);
}

void fuzz_time(std::string_view s) {
  if (auto t = stats::parse_rfc3339(s)) check_time(*t);
  if (auto t = stats::parse_unix_seconds(s)) {
    CHECK(*t >= 0);
    check_time(*t);
  }
  static const int64_t kNows[] = {1'763'884'800'000'000'000LL, 0, INT64_MIN + 1, INT64_MAX};
  for (int64_t now : kNows) {
    auto t = stats::parse_time_arg(s, now);
    if (!t) continue;
    if (s == "now") CHECK(*t == now);
    if (!s.empty() && s[0] == '-') CHECK(*t <= now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  fuzz_size(in);
  fuzz_duration(in);
  fuzz_time(in);
  return 0;
}
