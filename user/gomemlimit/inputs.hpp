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
#include "util/result.hpp"

namespace ow::gomemlimit {

// "MemTotal:  24684092 kB" -> bytes; nullopt when absent.
std::optional<uint64_t> parse_mem_total(std::string_view meminfo);

// `rel` must exist (Hierarchy::resolve). ebpf_bytes is left 0.
Result<CalcInput> read_inputs(const cg::Hierarchy& h, const std::string& rel,
                              const std::string& meminfo_path = "/proc/meminfo");

// The breakdown as the JSON object `oomwatch gomemlimit --json` prints.
nlohmann::json to_json(const Breakdown& b, const std::string& cgroup, uint64_t cgroup_id);

}  // namespace ow::gomemlimit
