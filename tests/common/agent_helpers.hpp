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

// The value of one sample in a Prometheus exposition (the series as it is
// rendered: name and labels), or -1 when it is absent.
inline double metric_value(const std::string& body, const std::string& series) {
  auto at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(body.c_str() + at + series.size() + 2, nullptr);
}

// The agent's count of snapshots it has handled (oomwatch_snapshots_total on
// its /metrics at 127.0.0.1:port; 0 when it does not answer). The count
// goes up as the loop starts on a snapshot, so a count of n + 2 means that
// snapshot n + 1 was handled whole, decisions included.
inline uint64_t snapshots_handled(int port) {
  double n = metric_value(http_get(port, "/metrics"), "oomwatch_snapshots_total");
  return n < 0 ? 0 : static_cast<uint64_t>(n);
}

// Waits until the agent on port has handled `more` whole snapshots after
// this call: what it decided on the cgroups as they are now is done.
inline bool snapshots_pass(int port, uint64_t more, int timeout_ms = 30000) {
  uint64_t from = snapshots_handled(port);
  return from > 0 && wait_for([&] { return snapshots_handled(port) >= from + more + 1; }, timeout_ms);
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
