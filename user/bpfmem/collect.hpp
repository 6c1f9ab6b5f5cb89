// Builds the eBPF memory table from the kernel: maps from iter/bpf_map (with
// the memory cgroup each is charged to), footprints from fdinfo `memlock`,
// programs by id, pins from bpffs, holders from /proc. Root only.
#pragma once
#include <string>

#include "bpf/bpffs.hpp"
#include "bpfmem/table.hpp"
#include "cgroup/idcache.hpp"
#include "util/result.hpp"

namespace ow::bpf {
class Loader;
}

namespace ow::bpfmem {

struct CollectOptions {
  std::string bpffs_root = bpf::kBpfFsRoot;
  std::string proc_root = "/proc";
  // Leave out the maps and programs of `loader`'s own skeleton (true for
  // one-shot commands, whose objects vanish when they exit).
  bool skip_own = true;
};

// `loader` is opened with LoaderOptions::bpfmem; when the iterator could
// not be loaded, maps are listed by id and their cgroup is unknown (the
// table says so in map_source and warnings).
Result<Table> collect(const bpf::Loader& loader, cg::IdCache& ids, const CollectOptions& opts = {});

}  // namespace ow::bpfmem
