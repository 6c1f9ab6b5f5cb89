#include "cgroup/parse.hpp"

#include <algorithm>

#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::cg {
namespace {

std::string unescape_mount(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 4 <= s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_on(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t e = s.find(sep, pos);
    if (e == std::string_view::npos) e = s.size();
    if (e > pos) out.emplace_back(s.substr(pos, e - pos));
    pos = e + 1;
  }
  return out;
}

bool has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::vector<MountEntry> parse_cgroup_mounts(std::string_view mounts) {
  std::vector<MountEntry> out;
  for (auto line : split_lines(mounts)) {
    auto f = split_ws(line);
    if (f.size() < 4) continue;
    if (f[2] != "cgroup" && f[2] != "cgroup2") continue;
    out.push_back({std::string(f[2]), unescape_mount(f[1]), split_on(f[3], ',')});
  }
  return out;
}

std::vector<ProcCgroup> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroup> out;
  for (auto line : split_lines(text)) {
    size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    uint64_t id = 0;
    // Hierarchy ids are small; a huge one is not a line of this file (and
    // must not wrap to 0, the id of the v2 line).
    if (!parse_u64(line.substr(0, a), id) || id > 0x7fffffff) continue;
    out.push_back({static_cast<int>(id), split_on(line.substr(a + 1, b - a - 1), ','),
                   std::string(line.substr(b + 1))});
  }
  return out;
}

std::optional<uint32_t> memory_hierarchy_id(std::string_view proc_self_cgroup) {
  bool v2 = false;
  for (const auto& l : parse_proc_cgroup(proc_self_cgroup)) {
    for (const auto& c : l.controllers)
      if (c == "memory") return static_cast<uint32_t>(l.hierarchy_id);
    if (l.hierarchy_id == 0 && l.controllers.empty()) v2 = true;
  }
  if (v2) return 0u;
  return std::nullopt;
}

Layout derive_layout(const std::vector<MountEntry>& mounts, const std::vector<ProcCgroup>& self,
                     const std::optional<std::string>& v2_controllers) {
  Layout l;
  const MountEntry* v1mem = nullptr;
  const MountEntry* v2 = nullptr;
  for (const auto& m : mounts) {
    if (m.fstype == "cgroup" && has(m.options, "memory") && !v1mem) v1mem = &m;
    if (m.fstype == "cgroup2" && !v2) v2 = &m;
  }
  if (v2) l.unified_mount = v2->path;
  bool v2_has_memory = false;
  if (v2 && v2_controllers) {
    auto ctl = split_ws(trim(*v2_controllers));
    v2_has_memory = std::find(ctl.begin(), ctl.end(), "memory") != ctl.end();
  }
  if (v1mem) {
    l.memory_version = Version::V1;
    l.memory_mount = v1mem->path;
    l.kind = v2 ? "hybrid" : "v1";
    for (const auto& c : self)
      if (has(c.controllers, "memory")) l.self_path = c.path;
  } else if (v2 && v2_has_memory) {
    l.memory_version = Version::V2;
    l.memory_mount = v2->path;
    l.kind = "v2";
    for (const auto& c : self)
      if (c.hierarchy_id == 0) l.self_path = c.path;
  } else {
    l.kind = "none";
  }
  if (l.self_path.empty() && !l.memory_mount.empty()) l.self_path = "/";
  return l;
}

Result<uint64_t> parse_limit(std::string_view text) {
  auto t = trim(text);
  if (t == "max") return kUnlimited;
  uint64_t v;
  if (!parse_u64(t, v)) return app_error("unparsable limit '" + std::string(t) + "'");
  // v1 reports "no limit" as PAGE_COUNTER_MAX * PAGE_SIZE (0x7ffffffffffff000 on
  // 64-bit with 4K pages); anything that large is no limit in practice.
  if (v >= (1ULL << 62)) return kUnlimited;
  return v;
}

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    uint64_t v;
    if (f.size() == 2 && parse_u64(f[1], v)) out.emplace(std::string(f[0]), v);
  }
  return out;
}

}  // namespace ow::cg
