// Kernel queries behind the eBPF memory table (root: CAP_SYS_ADMIN for
// *_get_fd_by_id and bpf_obj_get). Each object is opened by id for an
// instant, and its footprint read from our own /proc/self/fdinfo/<fd>.
// Objects that vanish between listing and opening are skipped, not errors.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bpf/bpffs.hpp"
#include "bpfmem/table.hpp"
#include "oomwatch.h"
#include "util/result.hpp"

namespace ow::bpf {
class Loader;
}

namespace ow::bpfmem {

// Every map record from one iter/bpf_map walk (the Loader must have been
// opened with `bpfmem` and report bpfmem_loaded()).
Result<std::vector<ow_bpf_map_rec>> read_map_records(const bpf::Loader& loader);
// The same records from a raw iterator byte stream (pure; whole records only).
Result<std::vector<ow_bpf_map_rec>> parse_map_records(const std::string& bytes);

// Fallback without the iterator: maps by id (BPF_MAP_GET_NEXT_ID + info),
// memcg_id 0 and flags OW_BPF_MAP_UNCHARGED unset (cgroup unknown).
Result<std::vector<ow_bpf_map_rec>> list_maps_by_id();

// fdinfo `memlock` of map / program `id`; nullopt when it is gone.
std::optional<uint64_t> map_memlock(uint32_t id);

// Every loaded program (BPF_PROG_GET_NEXT_ID), with memlock and the maps it
// uses (holders and pins left empty).
std::vector<ProgInfo> list_progs();

// bpffs pins under `root` (recursively): map id -> paths, prog id -> paths
// (a pinned link counts as a pin of its program).
struct Pins {
  std::map<uint32_t, std::vector<std::string>> maps, progs;
};
Pins walk_pins(const std::string& root = bpf::kBpfFsRoot);

// Ids of the maps and programs of the Loader's own skeleton (left out of the
// table: they exist only while this oomwatch process runs).
struct OwnIds {
  std::set<uint32_t> maps, progs;
};
OwnIds own_ids(const bpf::Loader& loader);

}  // namespace ow::bpfmem
