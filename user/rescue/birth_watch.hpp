// The kernel's word that a cgroup was created under a managed root: the
// cgroup_mkdir tracepoint (bpf/births.bpf.h) filtered in the kernel to the
// watched roots, read from the `births` ring buffer as an fd for the event
// loop. A child is then armed within a millisecond or so of its mkdir
// instead of at the next walk of the tree, one snapshot interval later.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bpf/births.hpp"
#include "bpf/loader.hpp"
#include "cgroup/hierarchy.hpp"

namespace ow::rescue {

struct Birth {
  std::string name;     // the new directory's name (bytes)
  uint64_t id = 0;      // its cgroup id (inode)
  uint64_t parent_id = 0;
  uint64_t root_id = 0;  // the watched root it is under
  uint32_t depth = 0;    // 1: a direct child of the root
  int64_t mono_ns = 0;   // CLOCK_MONOTONIC of the mkdir
};

class BirthWatch {
 public:
  using Handler = std::function<void(const Birth&)>;
  // Watches `roots` (relative paths) through the loader's cgroup_mkdir hook;
  // an error when the hook is not attached or a root is unknown.
  static Result<std::unique_ptr<BirthWatch>> open(const bpf::Loader& l, const cg::Hierarchy& h,
                                                   const std::vector<std::string>& roots, Handler on_birth,
                                                   const std::string& proc_root = "/proc");
  int fd() const { return ring_->epoll_fd(); }
  // Delivers what the ring holds (never blocks).
  Status poll();
  // Births the kernel could not queue (ring full) since the loader started.
  uint64_t drops() const { return loader_->stat(OW_STAT_BIRTH_DROPS); }
  uint64_t malformed() const { return ring_->malformed(); }

 private:
  BirthWatch() = default;
  const bpf::Loader* loader_ = nullptr;
  std::unique_ptr<bpf::BirthRing> ring_;
};

}  // namespace ow::rescue
