// Root: `oomwatch exec` on real cgroups, both outcomes, and no cgroup left.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "util/fs.hpp"

namespace {
nlohmann::json summary(const std::string& err) {
  auto lines = ow::split_lines(err);
  REQUIRE_FALSE(lines.empty());
  return nlohmann::json::parse(lines.back());
}
bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}
}  // namespace

TEST_CASE("exec passes the exit code through and reports no OOM", "[integration][exec]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "exec", "--memory", "32M", "--", "sh", "-c", "exit 3"});
  CHECK(r.exit_code == 3);
  auto j = summary(r.err);
  CHECK(j["exit_code"] == 3);
  CHECK(j["oom_killed"] == false);
  CHECK(j["limit_bytes"] == 32ull << 20);
  CHECK(j["peak_bytes"].get<uint64_t>() > 0);
  CHECK_FALSE(exists(owtest::hierarchy().abs(j["cgroup"])));
}

TEST_CASE("exec reports an OOM kill with 137 and oom_killed", "[integration][exec]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "exec", "--memory", "16M", "--", "sh", "-c", "exec tail /dev/zero"});
  CHECK(r.exit_code == 137);
  auto j = summary(r.err);
  CHECK(j["exit_code"] == 137);
  CHECK(j["oom_killed"] == true);
  CHECK(j["peak_bytes"].get<uint64_t>() >= (15ull << 20));
  CHECK_FALSE(exists(owtest::hierarchy().abs(j["cgroup"])));
}

TEST_CASE("exec of a missing command says so", "[integration][exec]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "exec", "--memory", "16M", "--", "/no/such/binary"});
  CHECK(r.exit_code == 127);
  CHECK(r.err.find("/no/such/binary") != std::string::npos);
}

TEST_CASE("exec under an unknown parent is a usage error", "[integration][exec]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "exec", "--memory", "16M", "--parent", "/nope", "--", "true"});
  CHECK(r.exit_code == 2);
}
