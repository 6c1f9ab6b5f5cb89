// Catch2 runner shared by every test binary. Besides Catch2's own output it
// prints "ow-tests: N passed, N failed" (test cases), which tests/run.sh adds up
// into the final line CI reads.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

namespace {
struct CountListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunEnded(const Catch::TestRunStats& s) override {
    std::printf("ow-tests: %zu passed, %zu failed\n", s.totals.testCases.passed, s.totals.testCases.failed);
    std::fflush(stdout);
  }
};
}  // namespace
CATCH_REGISTER_LISTENER(CountListener)

int main(int argc, char** argv) { return Catch::Session().run(argc, argv); }
