// The real binary, bad input to test-memory, stress-memory and monitor: one
// line naming the problem, exit 2, before any root check or cgroup.
#include <catch2/catch.hpp>

#include "helpers.hpp"

namespace {
void expect_usage(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv{owtest::oomwatch_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = owtest::run(argv);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("oomwatch: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  int lines = 0;
  for (char c : r.err) lines += c == '\n';
  CHECK(lines <= 2);  // the message and at most a HINT
}
}  // namespace

TEST_CASE("test-memory bad input exits 2 naming the value", "[stress][cli]") {
  expect_usage({"test-memory", "--memory", "64M", "--alloc", "100"}, "one page");
  expect_usage({"test-memory", "--memory", "64M", "--alloc=-5M"}, "-5M");
  expect_usage({"test-memory", "--memory", "64M", "--alloc", "-5M"}, "--alloc");
  expect_usage({"test-memory", "--memory", "64M", "--alloc", "12X"}, "12X");
  expect_usage({"test-memory", "--memory", "1K", "--alloc", "4M"}, "--memory 1K");
  expect_usage({"test-memory", "--memory", "64M", "--alloc", "4M", "--strategy", "ram"}, "ram");
  expect_usage({"test-memory", "--memory", "64M", "--alloc", "4M", "--step", "12"}, "--step 12");
  expect_usage({"test-memory", "--memory", "64M"}, "--alloc");
  expect_usage({"test-memory", "--alloc", "4M", "--memory", "64M", "--cgroup", "/"}, "--cgroup");
}

TEST_CASE("test-memory refuses more than MemAvailable without --memory", "[stress][cli]") {
  expect_usage({"test-memory", "--alloc", "100T"}, "MemAvailable");
}

TEST_CASE("stress-memory and monitor bad input exits 2", "[stress][cli]") {
  expect_usage({"stress-memory", "--memory", "64M", "--target", "32M", "--duration", "5s", "--workers", "0"},
               "--workers 0");
  expect_usage({"stress-memory", "--memory", "64M", "--target", "32M", "--duration", "0"}, "--duration 0");
  expect_usage({"stress-memory", "--memory", "64M", "--target", "32M"}, "--duration");
  expect_usage({"stress-memory", "--memory", "64M", "--target", "1.5Q", "--duration", "1s"}, "1.5Q");
  expect_usage({"monitor", "--cgroup", "/", "--interval", "0s"}, "--interval 0s");
  expect_usage({"monitor", "--cgroup", "/", "--duration", "soon"}, "soon");
  expect_usage({"monitor"}, "--cgroup");
}

TEST_CASE("help says which strategies the OOM killer can reclaim", "[stress][cli]") {
  for (const char* cmd : {"test-memory", "stress-memory"}) {
    auto r = owtest::run({owtest::oomwatch_bin(), cmd, "--help"});
    INFO(cmd);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--strategy") != std::string::npos);
    CHECK(r.out.find("file") != std::string::npos);
    CHECK(r.out.find("cannot be reclaimed without swap") != std::string::npos);
    CHECK(r.out.find("--json") != std::string::npos);
  }
  auto m = owtest::run({owtest::oomwatch_bin(), "monitor", "--help"});
  CHECK(m.exit_code == 0);
  CHECK(m.out.find("\"limit\":\"max\"") != std::string::npos);
}
