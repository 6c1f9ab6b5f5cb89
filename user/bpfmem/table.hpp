// The eBPF memory table: every map and program with its footprint, who holds
// it, and where it is charged; totals per owning process and per charged
// memory cgroup. Pure: built by collect.hpp, aggregated and printed here.
//
// Accounting rules:
// - a map's or program's bytes are its fdinfo `memlock`;
// - total_bytes counts each object once;
// - by_process counts every object a process holds an fd to (shared objects
//   count for each holder, so per-process figures can add up to more than
//   total_bytes);
// - by_cgroup counts maps only, under the memory cgroup the kernel charges
//   (map->objcg). Programs are charged at load time too, but the kernel keeps
//   no pointer from a program to its memcg, so they cannot be attributed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bpfmem/holders.hpp"

namespace ow::bpfmem {

// What maps and programs alike have.
struct BpfObject {
  uint32_t id = 0;
  uint32_t type = 0;  // enum bpf_map_type or bpf_prog_type
  std::string name;
  uint64_t memlock_bytes = 0;
  std::vector<Holder> holders;
  std::vector<std::string> pinned;  // bpffs paths (for a program, also of a link to it)
};

struct MapInfo : BpfObject {
  uint32_t key_size = 0, value_size = 0, max_entries = 0, map_flags = 0;
  bool cgroup_known = false;  // false without the iterator: charged cgroup unknown
  uint64_t cgroup_id = 0;     // memory cgroup charged (root's id when uncharged)
  std::string cgroup;         // its path; "" when the cgroup is gone
  bool uncharged = false;     // no memcg (root, or no kmem accounting)
  uint64_t refcnt = 0, usercnt = 0;  // kernel references (iterator only)
  std::vector<uint32_t> used_by_progs;  // programs referencing the map
};

struct ProgInfo : BpfObject {
  std::vector<uint32_t> map_ids;
};

struct Table {
  std::vector<MapInfo> maps;      // by id
  std::vector<ProgInfo> progs;    // by id
  std::string map_source;         // "iter/bpf_map", or "map ids" (no cgroup attribution)
  std::vector<std::string> warnings;
};

struct ProcessTotal {
  pid_t pid = 0;
  std::string comm;
  uint32_t maps = 0, progs = 0;
  uint64_t bytes = 0;
};

struct CgroupTotal {
  std::string cgroup;  // "" when removed
  uint64_t cgroup_id = 0;
  uint64_t bytes = 0;
  std::vector<uint32_t> map_ids;
};

std::vector<ProcessTotal> by_process(const Table& t);  // largest first
std::vector<CgroupTotal> by_cgroup(const Table& t);    // largest first; maps with a known cgroup
uint64_t map_bytes(const Table& t);
uint64_t prog_bytes(const Table& t);
uint64_t total_bytes(const Table& t);
// Bytes of the maps charged to cgroup `rel` or any cgroup below it.
uint64_t subtree_map_bytes(const Table& t, const std::string& rel);

// "pid 12 (bpftool) fd 3; pinned /sys/fs/bpf/x" or, when no process holds
// an fd, "no process holds it (pinned /sys/fs/bpf/x)". kernel_only: the
// object has no user reference at all (usercnt 0), said when nothing else is.
std::string held_by(const std::vector<Holder>& holders, const std::vector<std::string>& pinned,
                    const std::vector<uint32_t>& used_by_progs, bool kernel_only = false);

nlohmann::json to_json(const Table& t);
std::vector<std::string> to_text(const Table& t);

std::string map_type_name(uint32_t type);
std::string prog_type_name(uint32_t type);

}  // namespace ow::bpfmem
