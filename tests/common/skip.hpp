// A test case that cannot run where it is run says so and is counted as
// skipped, never as passed: OWTEST_SKIP("why") records the reason and returns
// from the test case. The runner (main.cpp) prints one "ow-skip: <case>:
// <reason>" line per skipped case and "N skipped" in its count line.
//
// Under CI=true a skip is a failure instead: CI runs on a machine where
// tools/install-deps.sh has installed every package the tests use and whose
// kernel (6.18, cgroup v1) has every feature they probe, so a skip there means
// the test lost its dependency. The VM tier's guests do not set CI: what a
// guest cannot have (bpftool, a v1-only file) is a skip there.
#pragma once
#include <catch2/catch.hpp>

#include <string>

namespace owtest {

// Marks the running test case skipped.
void skip(const std::string& reason);
// CI=true in the environment.
bool under_ci();

}  // namespace owtest

// In a TEST_CASE: skip it with a reason; under CI=true, fail it at this line.
#define OWTEST_SKIP(reason)                                                                        \
  do {                                                                                             \
    if (::owtest::under_ci())                                                                      \
      FAIL("skipped under CI=true, where it must run (tools/install-deps.sh installs what the "   \
           "tests use): "                                                                          \
           << (reason));                                                                           \
    ::owtest::skip(reason);                                                                        \
    return;                                                                                        \
  } while (0)
