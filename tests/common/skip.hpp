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
#include <string>

namespace owtest {

// Marks the running test case skipped (or fails it under CI=true).
void skip(const std::string& reason);

}  // namespace owtest

#define OWTEST_SKIP(reason)   \
  do {                        \
    ::owtest::skip(reason);   \
    return;                   \
  } while (0)
