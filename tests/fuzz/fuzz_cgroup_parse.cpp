// libFuzzer target: cgroupfs and procfs text parsers of user/cgroup/parse.hpp
// (/proc/self/mounts, /proc/self/cgroup, memory.limit_in_bytes / memory.max,
// memory.stat / memory.events / memory.oom_control).
//
// The whole input goes to every parser (each must take any bytes without
// throwing or reading out of bounds), and derive_layout() gets the input split
// at NUL bytes into mounts, /proc/self/cgroup and cgroup.controllers, the way
// Hierarchy::discover() feeds it three files.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "cgroup/parse.hpp"
#include "util/units.hpp"
#include "fuzz_check.hpp"

using namespace ow;


namespace {

// split_ws() splits on spaces and tabs only, split_lines() on newlines.
bool has_ws(std::string_view s) { return s.find_first_of(" \t\n") != std::string_view::npos; }

void check_layout(const cg::Layout& l) {
  CHECK(l.kind == "v1" || l.kind == "v2" || l.kind == "hybrid" || l.kind == "none");
  CHECK((l.kind == "none") == l.memory_mount.empty());
  if (!l.memory_mount.empty()) CHECK(!l.self_path.empty());
  if (l.kind == "v2") CHECK(l.memory_version == cg::Version::V2);
  if (l.kind == "v1" || l.kind == "hybrid") CHECK(l.memory_version == cg::Version::V1);
  if (l.kind == "hybrid") CHECK(!l.unified_mount.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  auto mounts = cg::parse_cgroup_mounts(in);
  for (const auto& m : mounts) {
    CHECK(m.fstype == "cgroup" || m.fstype == "cgroup2");
    CHECK(!m.path.empty());
    for (const auto& o : m.options) CHECK(!o.empty() && o.find(',') == std::string::npos);
  }

  auto procs = cg::parse_proc_cgroup(in);
  for (const auto& p : procs)
    for (const auto& c : p.controllers) CHECK(!c.empty() && c.find(',') == std::string::npos);

  if (auto lim = cg::parse_limit(in); lim) {
    // Anything at or above 2^62 is "no limit"; below that the number itself.
    CHECK(*lim == kUnlimited || *lim < (1ULL << 62));
  }

  for (const auto& [k, v] : cg::parse_flat_keyed(in)) {
    (void)v;
    CHECK(!k.empty() && !has_ws(k));
  }

  // mounts \0 /proc/self/cgroup \0 cgroup.controllers (absent: unreadable)
  std::string_view parts[3];
  size_t n = 0, pos = 0;
  while (n < 3) {
    size_t z = in.find('\0', pos);
    parts[n++] = in.substr(pos, z == std::string_view::npos ? std::string_view::npos : z - pos);
    if (z == std::string_view::npos) break;
    pos = z + 1;
  }
  std::optional<std::string> controllers;
  if (n == 3) controllers = std::string(parts[2]);
  auto l = cg::derive_layout(cg::parse_cgroup_mounts(parts[0]), cg::parse_proc_cgroup(n > 1 ? parts[1] : in),
                             controllers);
  check_layout(l);
  check_layout(cg::derive_layout(mounts, procs, std::string(in)));
  return 0;
}
