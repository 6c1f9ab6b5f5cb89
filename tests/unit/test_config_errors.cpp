// Every config error names the file, the line and the key; typos are errors.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using namespace ow::config;

namespace {
// The message must start with prefix and contain detail.
void expect_error(const std::string& text, const std::string& prefix, const std::string& detail) {
  auto r = parse_config(text, "oomwatch.toml");
  INFO(text);
  REQUIRE_FALSE(r);
  std::string m = r.error().message();
  INFO(m);
  CHECK(m.rfind(prefix, 0) == 0);
  CHECK(m.find(detail) != std::string::npos);
}
}  // namespace

TEST_CASE("config errors name file:line: key", "[config]") {
  struct Row { const char* text; const char* prefix; const char* detail; };
  const Row rows[] = {
      {"enforce = \"yes\"", "oomwatch.toml:1: enforce: ", "want true or false, got string"},
      {"\n\nmanage = \"/a\"", "oomwatch.toml:3: manage: ", "want an array of strings"},
      {"manage = [\"/a\",\n 3]", "oomwatch.toml:2: manage[1]: ", "want a string, got integer"},
      {"reservation = \"loose\"", "oomwatch.toml:1: reservation: ", "'loose' is not one of physical, strict"},
      {"rescue = 1", "oomwatch.toml:1: rescue: ", "want true or false, got integer"},
      {"audit_log = \"\"", "oomwatch.toml:1: audit_log: ", "must not be empty"},
      {"interval = \"5x\"", "oomwatch.toml:1: interval: ", "5x"},
      {"interval = \"0s\"", "oomwatch.toml:1: interval: ", "greater than zero"},
      {"interval = -3", "oomwatch.toml:1: interval: ", "negative"},
      {"log_level = \"verbose\"", "oomwatch.toml:1: log_level: ", "not one of trace, debug, info, warn, error, off"},
      {"interval = \"49ms\"", "oomwatch.toml:1: interval: ", "below 50ms"},
      {"loop_priority = \"rt\"", "oomwatch.toml:1: loop_priority: ", "'rt' is not one of fifo, nice, normal"},
      {"loop_priority = 1", "oomwatch.toml:1: loop_priority: ", "want a string"},
      {"v1_pause_deadline = true", "oomwatch.toml:1: v1_pause_deadline: ", "want a duration"},
      {"min_step = \"16Q\"", "oomwatch.toml:1: min_step: ", "bad size unit in '16Q'"},
      {"min_step = 0", "oomwatch.toml:1: min_step: ", "above zero"},
      {"max_moved_per_minute = -1", "oomwatch.toml:1: max_moved_per_minute: ", "negative"},
      {"reserve = \"150%\"", "oomwatch.toml:1: reserve: ", "bad percentage '150%'"},
      {"reserve = 1.5", "oomwatch.toml:1: reserve: ", "not in [0, 1)"},
      {"reserve = \"max\"", "oomwatch.toml:1: reserve: ", "cannot be \"max\""},
      {"listen = 9000", "oomwatch.toml:1: listen: ", "want a string"},
      {"listen = \"localhost:9753\"", "oomwatch.toml:1: listen: ", "not a numeric IPv4 address"},
      {"listen = \"127.0.0.1\"", "oomwatch.toml:1: listen: ", "no ':PORT'"},
      {"listen = \"127.0.0.1:0\"", "oomwatch.toml:1: listen: ", "port must be 1-65535"},
      {"listen = \"::1:9721\"", "oomwatch.toml:1: listen: ", "needs brackets"},
      {"metrics_max_cgroups = 0", "oomwatch.toml:1: metrics_max_cgroups: ", "out of range [1, 1000000]"},
      {"hints = \"yes\"", "oomwatch.toml:1: hints: ", "want true or false"},
      // toml++ 3.3 would assert (abort) on the first and reach undefined behaviour on the second.
      {"[=\n", "oomwatch.toml: ", "not valid TOML"},
      {"a = \xd0\x88\n", "oomwatch.toml:1: ", "non-ASCII character outside a \"double-quoted\" string"},
      {"db = 'caf\xc3\xa9'\n", "oomwatch.toml:1: ", "non-ASCII character outside"},
      {"enforce = true\ndb = \"a\x01\"\n", "oomwatch.toml:2: ", "a control character"},
      {"db = \"\xff\"\n", "oomwatch.toml: ", "not UTF-8"},
  };
  for (const auto& r : rows) expect_error(r.text, r.prefix, r.detail);
}

TEST_CASE("config: the interval floor and the log levels are the command line's", "[config]") {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    auto c = parse_config(std::string("log_level = \"") + level + "\"", "oomwatch.toml");
    REQUIRE(c);
    CHECK(c->log_level == level);
  }
  auto at_floor = parse_config("interval = \"50ms\"", "oomwatch.toml");
  REQUIRE(at_floor);
  CHECK(at_floor->interval_ns == 50'000'000);
}

TEST_CASE("config errors inside [[cgroup]] name its index and key", "[config]") {
  const std::string two = "enforce = true\n\n[[cgroup]]\npath = \"/a\"\n\n[[cgroup]]\npath = \"/b\"\n";
  struct Row { std::string tail; const char* prefix; const char* detail; };
  const Row rows[] = {
      {"floor = \"64X\"\n", "oomwatch.toml:8: cgroup[1].floor: ", "bad size unit in '64X'"},
      {"floor = \"max\"\n", "oomwatch.toml:8: cgroup[1].floor: ", "cannot be \"max\""},
      {"ceiling = [1]\n", "oomwatch.toml:8: cgroup[1].ceiling: ", "want a size"},
      {"donate = \"no\"\n", "oomwatch.toml:8: cgroup[1].donate: ", "want true or false"},
      {"priority = 1.5\n", "oomwatch.toml:8: cgroup[1].priority: ", "want an integer, got floating-point"},
      {"priority = 9999999999\n", "oomwatch.toml:8: cgroup[1].priority: ", "out of range"},
      {"floor = \"2G\"\nceiling = \"1G\"\n", "oomwatch.toml:8: cgroup[1].floor: ", "floor 2GiB is above ceiling 1GiB"},
      {"flor = \"64M\"\n", "oomwatch.toml:8: cgroup[1].flor: ", "unknown key (known: path, floor"},
  };
  for (const auto& r : rows) expect_error(two + r.tail, r.prefix, r.detail);

  expect_error("[[cgroup]]\nfloor = \"1M\"\n", "oomwatch.toml:1: cgroup[0].path: ", "missing");
  expect_error("[[cgroup]]\npath = \"/a\"\n[[cgroup]]\npath = \"/a\"\n", "oomwatch.toml:4: cgroup[1].path: ",
               "'/a' is already configured at line 2");
  expect_error("[cgroup]\npath = \"/a\"\n", "oomwatch.toml:1: cgroup: ", "want [[cgroup]] sections");
}

TEST_CASE("config: unknown keys are rejected, not ignored", "[config]") {
  expect_error("enforce = true\nenfroce = false\n", "oomwatch.toml:2: enfroce: ", "unknown key (known: ");
  expect_error("\n\n[agent]\ninterval = \"1s\"\n", "oomwatch.toml:3: agent: ", "unknown key");
  expect_error("min-step = \"16M\"", "oomwatch.toml:1: min-step: ", "min_step");  // the list shows the spelling
}

TEST_CASE("config: TOML syntax errors name file and line", "[config]") {
  expect_error("enforce = true\ninterval = \"1s\n", "oomwatch.toml:2: ", "");
  expect_error("a = 1\na = 2\n", "oomwatch.toml:2: ", "");  // duplicate key: toml++ refuses it
}
