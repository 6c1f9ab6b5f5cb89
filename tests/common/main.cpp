// Catch2 runner shared by every test binary. Besides Catch2's own output it
// prints one "ow-skip: <test case>: <reason>" line per skipped case (skip.hpp)
// and "ow-tests: N passed, N failed, N skipped" (test cases), which
// tests/run.sh adds up into the final line CI reads. A skipped case is not
// counted as passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "skip.hpp"

namespace {
std::map<std::string, std::string>& skips() {
  static std::map<std::string, std::string> m;  // test case -> reason
  return m;
}

struct CountListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  size_t skipped = 0;
  void testCaseEnded(const Catch::TestCaseStats& s) override {
    auto it = skips().find(s.testInfo.name);
    if (it == skips().end()) return;
    std::printf("ow-skip: %s: %s\n", it->first.c_str(), it->second.c_str());
    std::fflush(stdout);
    if (s.totals.assertions.failed == 0) skipped++;  // failed before it skipped: stays a failure
  }
  void testRunEnded(const Catch::TestRunStats& s) override {
    std::printf("ow-tests: %zu passed, %zu failed, %zu skipped\n", s.totals.testCases.passed - skipped,
                s.totals.testCases.failed, skipped);
    std::fflush(stdout);
  }
};
}  // namespace
CATCH_REGISTER_LISTENER(CountListener)

namespace owtest {
bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::strcmp(ci, "true") == 0;
}

void skip(const std::string& reason) {
  WARN("skipped: " << reason);
  skips()[Catch::getResultCapture().getCurrentTestName()] = reason;
}
}  // namespace owtest

int main(int argc, char** argv) { return Catch::Session().run(argc, argv); }
