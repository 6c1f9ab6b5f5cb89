// One cgroup's hint from live figures: limits and memory.stat from cgroupfs,
// eBPF bytes from a bpf-mem table. What `oomwatch gomemlimit` prints and
// what the daemon recomputes and publishes.
#pragma once
#include <string>

#include "bpfmem/table.hpp"
#include "cgroup/hierarchy.hpp"
#include "gomemlimit/calc.hpp"
#include "util/meminfo.hpp"
#include "util/result.hpp"

namespace ow::gomemlimit {

struct Hint {
  Breakdown breakdown;   // breakdown.ok == false: no positive hint (breakdown.error says why)
  size_t ebpf_maps = 0;  // maps charged to the subtree
  bool ebpf_measured = false;
  std::string ebpf_source;  // "iter/bpf_map", or why eBPF memory is unknown
};

// `rel` is an existing cgroup (Hierarchy::resolve). `table` == nullptr, or a
// table without cgroup attribution: eBPF is counted as 0 and said so.
// Errors: cgroupfs or /proc/meminfo unreadable.
Result<Hint> hint_for(const cg::Hierarchy& h, const std::string& rel, const bpfmem::Table* table,
                      const CalcParams& params, const std::string& meminfo_path = kMeminfoPath);

}  // namespace ow::gomemlimit
