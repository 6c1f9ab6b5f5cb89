// Helpers shared by the tests that run the agent on real cgroups
// (test_daemon, test_safety, test_faults).
#pragma once
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "util/fs.hpp"

namespace owtest {

// A directory under /tmp, removed with its contents on every path.
struct TmpTree {
  std::string path;
  explicit TmpTree(const char* prefix = "owtest-agent") {
    std::string t = std::string("/tmp/") + prefix + "-XXXXXX";
    REQUIRE(::mkdtemp(t.data()));
    path = t;
  }
  ~TmpTree() { run({"rm", "-rf", path}); }
};

// A child cgroup of parent with that limit, or the test fails.
inline ow::cg::ScopedCgroup child(const ow::cg::Hierarchy& h, const std::string& parent, const char* prefix,
                                  uint64_t limit) {
  auto c = ow::cg::ScopedCgroup::create(h, parent, prefix, limit);
  if (!c) FAIL("create " << prefix << ": " << c.error().message());
  return std::move(*c);
}

// Armed by the agent: oom_kill_disable=1 (v1) or a memory.high guard (v2).
inline bool armed(const ow::cg::Hierarchy& h, const std::string& rel) {
  if (h.version() == ow::cg::Version::V1) {
    auto e = h.events(rel);
    return e && e->oom_kill_disable;
  }
  auto u = h.read(rel);
  return u && u->high_bytes != ow::kUnlimited;
}

// JSON lines of a file (none when it is missing); ordered keeps key order.
template <typename Json = nlohmann::json>
std::vector<Json> json_file_lines(const std::string& path) {
  std::vector<Json> out;
  std::string text = ow::read_text(path).value_or("");  // split_lines returns views into it
  for (auto l : ow::split_lines(text))
    if (!l.empty()) out.push_back(Json::parse(l));
  return out;
}

}  // namespace owtest
