// Pure parsers of procfs/cgroupfs text. No I/O: tested on literal strings.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ow::cg {

enum class Version { V1, V2 };
inline const char* version_name(Version v) { return v == Version::V1 ? "v1" : "v2"; }

struct MountEntry {
  std::string fstype;  // "cgroup" or "cgroup2"
  std::string path;    // mount point
  std::vector<std::string> options;
};
// Lines of /proc/self/mounts whose fstype is cgroup or cgroup2. Octal escapes
// (\040 for a space) in mount points are decoded.
std::vector<MountEntry> parse_cgroup_mounts(std::string_view mounts);

struct ProcCgroup {
  int hierarchy_id;
  std::vector<std::string> controllers;  // empty for the v2 "0::" line
  std::string path;
};
std::vector<ProcCgroup> parse_proc_cgroup(std::string_view text);
// The kernel's id of the hierarchy the memory controller is bound to, from
// /proc/self/cgroup: its v1 line's, else 0 (the v2 hierarchy's id) when a
// "0::" line is there; nullopt when neither is.
std::optional<uint32_t> memory_hierarchy_id(std::string_view proc_self_cgroup);

// Where the memory controller lives, and how this process sits in it.
struct Layout {
  std::string kind;           // "v1", "v2", "hybrid" (memory on v1, v2 mounted too), "none"
  Version memory_version = Version::V1;
  std::string memory_mount;   // "" when no hierarchy holds memory
  std::string unified_mount;  // v2 mount, if any (may lack memory)
  std::string self_path;      // this process's cgroup in the memory hierarchy ("/..." )
};
// v2_controllers: content of <v2 mount>/cgroup.controllers, or nullopt when unreadable.
Layout derive_layout(const std::vector<MountEntry>& mounts, const std::vector<ProcCgroup>& self,
                     const std::optional<std::string>& v2_controllers);

// "max" (v2) and the v1 "no limit" value (PAGE_COUNTER_MAX pages) -> kUnlimited.
Result<uint64_t> parse_limit(std::string_view text);

// "key value" lines (memory.stat, memory.events, memory.oom_control).
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);

}  // namespace ow::cg
