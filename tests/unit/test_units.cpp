#include <catch2/catch.hpp>

#include "util/units.hpp"

using namespace ow;
using namespace std::chrono_literals;

TEST_CASE("sizes parse in binary units", "[units]") {
  CHECK(*parse_size("4096") == 4096);
  CHECK(*parse_size("64K") == 65536);
  CHECK(*parse_size("128M") == 128ull << 20);
  CHECK(*parse_size("1.5G") == 1536ull << 20);
  CHECK(*parse_size("2GiB") == 2ull << 30);
  CHECK(*parse_size("1.5GiB") == 1536ull << 20);
  CHECK(*parse_size("16Mi") == 16ull << 20);
  CHECK(*parse_size("max") == kUnlimited);
  CHECK(*parse_size("2PiB") == 2ull << 50);
  CHECK(*parse_size(format_size(3ull << 50)) == 3ull << 50);  // what format_size writes reads back
  CHECK(*parse_size("17363817363884884800") == static_cast<uint64_t>(17363817363884884800.0));  // not 2^63
  CHECK_FALSE(parse_size(std::string(400, '9')).ok());  // too large, not an exception from stod
}

TEST_CASE("bad sizes are errors that name the value", "[units]") {
  for (const char* bad : {"", "-1", "12X", "M", "1..5G", "abc", "1e9"}) {
    auto r = parse_size(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find(bad) != std::string::npos);
  }
  CHECK_FALSE(parse_size("99999999T").ok());
}

TEST_CASE("sizes format readably", "[units]") {
  CHECK(format_size(512) == "512B");
  CHECK(format_size(1536) == "1.5KiB");
  CHECK(format_size(128ull << 20) == "128MiB");
  CHECK(format_size(kUnlimited) == "max");
}

TEST_CASE("durations parse and format", "[units]") {
  CHECK(*parse_duration("500ms") == 500ms);
  CHECK(*parse_duration("30s") == 30s);
  CHECK(*parse_duration("10m") == 10min);
  CHECK(*parse_duration("2h") == 2h);
  CHECK(*parse_duration("1.5s") == 1500ms);
  CHECK(*parse_duration("5") == 5s);
  CHECK_FALSE(parse_duration("5x").ok());
  CHECK_FALSE(parse_duration("-1s").ok());
  CHECK_FALSE(parse_duration("").ok());
  CHECK(format_duration(2h) == "2h");
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(90s) == "90s");
}
