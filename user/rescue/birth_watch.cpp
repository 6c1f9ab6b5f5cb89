#include "rescue/birth_watch.hpp"

#include <bpf/bpf.h>

#include "cgroup/parse.hpp"
#include "util/fs.hpp"

namespace ow::rescue {

Result<std::unique_ptr<BirthWatch>> BirthWatch::open(const bpf::Loader& l, const cg::Hierarchy& h,
                                                     const std::vector<std::string>& roots, Handler on_birth,
                                                     const std::string& proc_root) {
  if (!l.births_attached()) return app_error("the cgroup_mkdir tracepoint is not attached");
  if (roots.size() > OW_BIRTH_ROOTS)
    return app_error("more than " + std::to_string(OW_BIRTH_ROOTS) + " --manage roots to watch for new cgroups");
  auto self = read_text(proc_root + "/self/cgroup");
  if (!self) return self.error();
  auto hid = cg::memory_hierarchy_id(*self);
  if (!hid) return app_error("no memory hierarchy in " + proc_root + "/self/cgroup");
  for (const auto& r : roots) {
    auto id = h.id_of(r);
    if (!id) return id.error();
    __u64 key = *id;
    __u32 val = *hid;
    if (bpf_map_update_elem(l.birth_roots_fd(), &key, &val, BPF_ANY) != 0)
      return sys_error("add " + r + " to the birth_roots map");
  }
  std::unique_ptr<BirthWatch> w(new BirthWatch());
  w->loader_ = &l;
  auto ring = bpf::BirthRing::open(
      l.births_fd(),
      [h = std::move(on_birth)](const ow_birth_event& e) {
        Birth b;
        b.name = bpf::birth_name(e);
        b.id = e.cgroup_id;
        b.parent_id = e.parent_id;
        b.root_id = e.root_id;
        b.depth = e.depth;
        b.mono_ns = static_cast<int64_t>(e.ts_ns);
        h(b);
      },
      "births");
  if (!ring) return ring.error();
  w->ring_ = std::move(*ring);
  return w;
}

Status BirthWatch::poll() {
  if (auto n = ring_->poll(0); !n) return n.error();
  return {};
}

}  // namespace ow::rescue
