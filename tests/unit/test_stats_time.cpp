// Times in files and on the command line: RFC 3339, unix seconds, relative.
#include <catch2/catch.hpp>

#include "stats/time.hpp"

using namespace ow::stats;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t k2025 = 1763856000 * kSec;  // 2025-11-23T00:00:00Z
}  // namespace

TEST_CASE("RFC 3339 formats in UTC with the fewest exact fraction digits", "[stats][time]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(k2025) == "2025-11-23T00:00:00.000Z");
  CHECK(format_rfc3339(k2025 + 345'000'000) == "2025-11-23T00:00:00.345Z");
  CHECK(format_rfc3339(k2025 + 345'678'000) == "2025-11-23T00:00:00.345678Z");
  CHECK(format_rfc3339(k2025 + 345'678'901) == "2025-11-23T00:00:00.345678901Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(format_rfc3339(951782400 * kSec) == "2000-02-29T00:00:00.000Z");  // leap day
}

TEST_CASE("RFC 3339 parses what formatting writes, losslessly", "[stats][time]") {
  for (int64_t t : {int64_t{0}, k2025, k2025 + 1, k2025 + 999'999'999, int64_t{-1}, k2025 + 86399 * kSec + 5'000})
    CHECK(*parse_rfc3339(format_rfc3339(t)) == t);
}

TEST_CASE("RFC 3339 accepts offsets, lowercase and a space separator", "[stats][time]") {
  CHECK(*parse_rfc3339("2025-11-23T02:00:00+02:00") == k2025);
  CHECK(*parse_rfc3339("2025-11-22T19:30:00-04:30") == k2025);
  CHECK(*parse_rfc3339("2025-11-23t00:00:00z") == k2025);
  CHECK(*parse_rfc3339("2025-11-23 00:00:00.5Z") == k2025 + kSec / 2);
}

TEST_CASE("bad RFC 3339 times are errors that name the value", "[stats][time]") {
  for (const char* bad : {"", "2025-11-23", "2025-11-23T00:00:00", "2025-02-30T00:00:00Z", "2025-13-01T00:00:00Z",
                          "2025-11-23T24:00:00Z", "2025-11-23T00:60:00Z", "2025-11-23T23:59:60Z",
                          "2025-11-23T00:00:00.Z", "2025-11-23T00:00:00.1234567890Z", "2025-11-23T00:00:00Zjunk",
                          "2025-11-23T00:00:00+0200", "2025/11/23T00:00:00Z", "9999-01-01T00:00:00Z"}) {
    INFO(bad);
    auto r = parse_rfc3339(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find(bad) != std::string::npos);
  }
}

TEST_CASE("unix seconds, with a fraction up to nanoseconds", "[stats][time]") {
  CHECK(*parse_unix_seconds("1763856000") == k2025);
  CHECK(*parse_unix_seconds("1763856000.25") == k2025 + kSec / 4);
  CHECK(*parse_unix_seconds("0.000000001") == 1);
  for (const char* bad : {"", ".", "1.", "1e9", "-5", "1.2.3", "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_unix_seconds(bad).ok());
  }
}

TEST_CASE("command-line times: RFC 3339, unix seconds, now, relative", "[stats][time]") {
  int64_t now = k2025 + 7200 * kSec;
  CHECK(*parse_time_arg("now", now) == now);
  CHECK(*parse_time_arg("-1h", now) == now - 3600 * kSec);
  CHECK(*parse_time_arg("-30m", now) == now - 1800 * kSec);
  CHECK(*parse_time_arg("-1.5h", now) == now - 5400 * kSec);
  CHECK(*parse_time_arg("-500ms", now) == now - kSec / 2);
  CHECK(*parse_time_arg("1763856000", now) == k2025);
  CHECK(*parse_time_arg("2025-11-23T00:00:00Z", now) == k2025);
  for (const char* bad : {"-1x", "-", "yesterday", "+1h", "1h", "2025-11-23"}) {
    INFO(bad);
    auto r = parse_time_arg(bad, now);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find(std::string("'") + bad + "'") != std::string::npos);
  }
}
