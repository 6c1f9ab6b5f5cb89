#include "bpfmem/collect.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "bpf/loader.hpp"
#include "bpfmem/kernel.hpp"
#include "util/text.hpp"

namespace ow::bpfmem {
namespace {

// Who holds o and where it is pinned, from the lists of its kind (maps or programs).
void add_holders(BpfObject& o, const std::map<uint32_t, std::vector<Holder>>& holders,
                 const std::map<uint32_t, std::vector<std::string>>& pins) {
  if (auto it = holders.find(o.id); it != holders.end()) o.holders = it->second;
  if (auto it = pins.find(o.id); it != pins.end()) o.pinned = it->second;
}

}  // namespace

Result<Table> collect(const bpf::Loader& loader, cg::IdCache& ids, const CollectOptions& opts) {
  Table t;
  std::vector<ow_bpf_map_rec> recs;
  bool have_cgroups = false;
  if (loader.bpfmem_loaded()) {
    auto r = read_map_records(loader);
    if (r) {
      recs = std::move(*r);
      have_cgroups = true;
      t.map_source = "iter/bpf_map";
    } else {
      t.warnings.push_back(r.error().message() + ": maps listed by id, charged cgroup unknown");
    }
  } else {
    t.warnings.push_back("no bpf_map iterator on this kernel (5.8+): maps listed by id, charged cgroup unknown");
  }
  if (!have_cgroups) {
    auto r = list_maps_by_id();
    if (!r) return r.error();
    recs = std::move(*r);
    t.map_source = "map ids";
  }

  OwnIds own;
  if (opts.skip_own) own = own_ids(loader);
  auto pins = walk_pins(opts.bpffs_root);
  auto holders = scan_holders(opts.proc_root, ::getpid());
  if (holders.processes_unreadable > 0 && ::geteuid() != 0)
    t.warnings.push_back("not root: fds of other users' processes are not visible");

  uint64_t root_id = ids.hierarchy().id_of("/").value_or(0);
  for (const auto& r : recs) {
    if (own.maps.count(r.id)) continue;
    // libbpf's feature probes (any libbpf user, this one included) leave maps
    // named libbpf_* that live on, with no user reference, only until the
    // probe program's RCU-delayed free: not worth a line in the table.
    if (have_cgroups && r.usercnt == 0 && std::strncmp(r.name, "libbpf_", 7) == 0) continue;
    auto memlock = map_memlock(r.id);
    if (!memlock) continue;  // freed since the walk
    MapInfo m;
    m.id = r.id;
    m.type = r.map_type;
    m.key_size = r.key_size;
    m.value_size = r.value_size;
    m.max_entries = r.max_entries;
    m.map_flags = r.map_flags;
    m.name = std::string(field_bytes(r.name));
    m.memlock_bytes = *memlock;
    if (have_cgroups) {
      m.cgroup_known = true;
      m.refcnt = r.refcnt;
      m.usercnt = r.usercnt;
      m.uncharged = (r.flags & OW_BPF_MAP_UNCHARGED) != 0;
      // No memcg means the root's: the root cgroup is never limited.
      m.cgroup_id = m.uncharged ? root_id : r.memcg_id;
      m.cgroup = m.uncharged ? "/" : ids.path(r.memcg_id);
    }
    add_holders(m, holders.maps, pins.maps);
    t.maps.push_back(std::move(m));
  }
  std::sort(t.maps.begin(), t.maps.end(), [](const auto& a, const auto& b) { return a.id < b.id; });

  for (auto& p : list_progs()) {
    if (own.progs.count(p.id)) continue;
    add_holders(p, holders.progs, pins.progs);
    for (uint32_t mid : p.map_ids) {
      auto m = std::lower_bound(t.maps.begin(), t.maps.end(), mid, [](const MapInfo& a, uint32_t v) { return a.id < v; });
      if (m != t.maps.end() && m->id == mid) m->used_by_progs.push_back(p.id);
    }
    t.progs.push_back(std::move(p));
  }
  return t;
}

}  // namespace ow::bpfmem
