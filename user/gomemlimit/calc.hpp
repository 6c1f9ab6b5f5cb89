// The GOMEMLIMIT hint of one memory cgroup: pure arithmetic on figures read
// elsewhere (inputs.hpp). No I/O; every component is in the Breakdown.
//
//   effective  = min(limit of the cgroup and of each ancestor, machine memory)
//   non-heap   = ebpf + kernel + pagetables + sock + shmem + cache_reserve
//   margin     = margin_fraction × effective                  (default 5 %)
//   hint       = (effective − non-heap − margin) × ratio       (default 80 %)
//
// A limit is v2 memory.max and memory.high (high throttles before max kills,
// so the heap must stay under it too), v1 memory.limit_in_bytes. No limit
// anywhere, or only limits above it: the machine's MemTotal, the documented
// fallback ("limit_source": "machine").
//
// Non-heap memory is what the cgroup is charged for that the Go runtime cannot
// see and GC cannot free. memory.stat is hierarchical on v2; on v1 the
// total_* keys are (this cgroup and its descendants):
//
//   component      cgroup v2 (memory.stat)               cgroup v1
//   ebpf           maps charged to the cgroup's subtree (bpf-mem, fdinfo memlock)
//   kernel         kernel − pagetables − ebpf             memory.kmem.usage_in_bytes − ebpf
//                  (before 5.18, no "kernel": kernel_stack   (v1 kmem holds slab, stacks, page
//                  + slab + percpu + vmalloc − ebpf)         tables and eBPF maps alike; 0 where
//                                                            the kernel has no kmem files)
//   pagetables     pagetables (+ sec_pagetables)          0: v1 has no such key; they are in kmem
//   sock           sock (network buffers are charged      0: v1 charges socket memory to a
//                  to memory.current on v2)                  separate counter (kmem.tcp), not
//                                                            to memory.limit_in_bytes
//   shmem          shmem (tmpfs, shared anon: not         total_shmem
//                  reclaimable without swap)
//   cache_reserve  file_dirty + file_writeback            total_dirty + total_writeback
//                  + cache_fraction × the rest of file    + cache_fraction × the rest of
//                  (file − shmem − dirty − writeback)       total_cache (− shmem − dirty − writeback)
//
// eBPF map memory is kernel memory: it is inside "kernel" (v2) and kmem (v1),
// so it is subtracted from that figure once (never below 0) and counted only
// as ebpf. Components a kernel does not report are 0 and named in `notes`.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/parse.hpp"
#include "util/result.hpp"

namespace ow::gomemlimit {

struct CalcParams {
  double margin_fraction = 0.05;  // of the effective limit; [0, 1)
  double ratio = 0.80;            // of what is left; (0, 1]
  double cache_fraction = 0.10;   // of clean, reclaimable file cache kept in reserve; [0, 1]
};
Status validate(const CalcParams& p);

struct LimitLevel {
  std::string cgroup;        // path relative to the hierarchy root
  uint64_t limit_bytes = 0;  // kUnlimited when none
};

struct CalcInput {
  cg::Version version = cg::Version::V2;
  std::vector<LimitLevel> levels;  // the cgroup first, then each ancestor up to the root
  uint64_t machine_bytes = 0;      // MemTotal
  std::map<std::string, uint64_t> stat;    // memory.stat of the cgroup
  std::optional<uint64_t> v1_kmem_bytes;   // memory.kmem.usage_in_bytes (v1, where present)
  uint64_t ebpf_bytes = 0;                 // maps charged to the cgroup's subtree
};

struct Breakdown {
  uint64_t effective_limit_bytes = 0;
  std::string limit_source;  // "cgroup" (its own limit), "ancestor", or "machine"
  std::string limit_cgroup;  // whose limit; "" for machine
  uint64_t machine_bytes = 0;
  uint64_t ebpf_bytes = 0, kernel_bytes = 0, pagetables_bytes = 0, sock_bytes = 0, shmem_bytes = 0,
           cache_reserve_bytes = 0;
  uint64_t file_bytes = 0;     // page cache the reserve was taken from
  uint64_t nonheap_bytes = 0;  // sum of the six components
  uint64_t margin_bytes = 0;
  int64_t available_bytes = 0;  // effective − non-heap − margin; may be <= 0
  uint64_t gomemlimit_bytes = 0;  // 0 unless ok
  bool ok = false;
  std::string error;  // why there is no hint
  std::vector<std::string> notes;
  CalcParams params;
};

// Never fails: a hint at or below zero comes back with ok == false and an
// error naming the figures. Params must have passed validate().
Breakdown compute(const CalcInput& in, const CalcParams& p);

}  // namespace ow::gomemlimit
