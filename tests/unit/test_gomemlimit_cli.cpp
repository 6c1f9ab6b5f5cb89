// The real binary, bad input to gomemlimit and bpf-mem: one clear line, exit 2.
#include <catch2/catch.hpp>

#include "helpers.hpp"

namespace {
void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv{owtest::oomwatch_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = owtest::run(argv);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());  // nothing a $(...) could mistake for a limit
  CHECK(r.err.find(needle) != std::string::npos);
}
}  // namespace

TEST_CASE("gomemlimit: bad input exits 2 and prints no value", "[cli][gomemlimit]") {
  expect_usage_error({"gomemlimit"}, "--cgroup");
  expect_usage_error({"gomemlimit", "--cgroup", "/no/such/cgroup/owtest"}, "unknown cgroup");
  expect_usage_error({"gomemlimit", "--cgroup", "/", "--margin", "1.5"}, "margin 1.5");
  expect_usage_error({"gomemlimit", "--cgroup", "/", "--ratio", "0"}, "ratio 0");
  expect_usage_error({"gomemlimit", "--cgroup", "/", "--ratio", "lots"}, "lots");
  expect_usage_error({"gomemlimit", "--cgroup", "/", "--publish", "--unpublish"}, "exclude");
  expect_usage_error({"bpf-mem", "--watch", "soon"}, "soon");
}

TEST_CASE("gomemlimit and bpf-mem are listed in --help", "[cli][gomemlimit]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "--help"});
  CHECK(r.out.find("gomemlimit") != std::string::npos);
  CHECK(r.out.find("bpf-mem") != std::string::npos);
}
