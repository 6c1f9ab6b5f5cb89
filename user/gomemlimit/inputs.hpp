// Reads what the calculator needs for one cgroup from cgroupfs and procfs:
// the limits of the cgroup and its ancestors, its memory.stat, v1's kmem
// usage, and the machine's MemTotal. eBPF bytes come from bpfmem (root).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cgroup/hierarchy.hpp"
#include "gomemlimit/calc.hpp"
#include "util/meminfo.hpp"
#include "util/result.hpp"

namespace ow::gomemlimit {

// "MemTotal:  24684092 kB" -> bytes; nullopt when absent.
std::optional<uint64_t> parse_mem_total(std::string_view meminfo);

// `rel` must exist (Hierarchy::resolve). ebpf_bytes is left 0.
Result<CalcInput> read_inputs(const cg::Hierarchy& h, const std::string& rel,
                              const std::string& meminfo_path = kMeminfoPath);

// The pieces of read_inputs, for callers that compute many cgroups at once
// (hintsvc/service.hpp reads each level's limit once per tick, not once per
// descendant, and MemTotal once per tick):
// - one level's limit as the hint counts it: v1 memory.limit_in_bytes, v2
//   min(memory.max, memory.high); kUnlimited when none or unreadable;
uint64_t level_limit(const cg::Hierarchy& h, const std::string& rel);
// - the cgroup's own figures into `in`: version, memory.stat, v1 kmem usage
//   (levels, machine_bytes and ebpf_bytes are left as they are);
Status read_cgroup_figures(const cg::Hierarchy& h, const std::string& rel, CalcInput& in);
// - MemTotal in bytes.
Result<uint64_t> read_mem_total(const std::string& meminfo_path = kMeminfoPath);

// The breakdown as the JSON object `oomwatch gomemlimit --json` prints.
nlohmann::json to_json(const Breakdown& b, const std::string& cgroup, uint64_t cgroup_id);

}  // namespace ow::gomemlimit
