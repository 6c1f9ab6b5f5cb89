// The real binary, bad input: one line naming the problem, exit 2, no crash.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using owtest::run;

namespace {
int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv{owtest::oomwatch_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("oomwatch: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(lines(r.err) <= 2);  // the message, and at most a HINT line
}
}  // namespace

TEST_CASE("usage errors exit 2 with one clear line", "[cli]") {
  expect_usage_error({}, "subcommand");
  expect_usage_error({"frobnicate"}, "frobnicate");
  expect_usage_error({"events", "--bogus"}, "--bogus");
  expect_usage_error({"exec", "--memory", "12X", "--", "true"}, "12X");
  expect_usage_error({"exec", "--memory", "100", "--", "true"}, "one page");
  expect_usage_error({"exec", "--", "true"}, "--memory");
  // As --db none turns the database off; the audit log cannot be (a file
  // named "none" appeared in the working directory).
  expect_usage_error({"run", "--audit-log", "none"}, "cannot be 'none'");
}

TEST_CASE("--help prints usage and exits 0", "[cli]") {
  auto r = run({owtest::oomwatch_bin(), "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("exec") != std::string::npos);
  CHECK(r.out.find("events") != std::string::npos);
  auto e = run({owtest::oomwatch_bin(), "exec", "--help"});
  CHECK(e.exit_code == 0);
  CHECK(e.out.find("--memory") != std::string::npos);
}
