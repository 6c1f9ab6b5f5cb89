// Takes snapshots of every memory cgroup (or of chosen subtrees): the source's
// raw figures plus a CLOCK_REALTIME timestamp and each cgroup's path, resolved
// through a cache that follows cgroup creation and removal.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bpf/loader.hpp"
#include "cgroup/idcache.hpp"
#include "sampler/source.hpp"

namespace ow::sampler {

class Sampler {
 public:
  // With a loader whose snapshot program is loaded, samples through the BPF
  // iterator; otherwise (nullptr, or an old kernel) through cgroupfs files.
  // roots: relative paths; each selects itself and its descendants (empty: all).
  static Result<std::unique_ptr<Sampler>> open(const cg::Hierarchy& h, const bpf::Loader* loader,
                                               std::vector<std::string> roots = {});
  Result<Snapshot> take();
  const char* source_name() const { return srcs_.front()->name(); }
  // Where inactive_file / working_set come from: "bpf-iter" or "cgroupfs"
  // (the files source, or the BPF source falling back to memory.stat).
  const char* working_set_source() const {
    return srcs_.front()->fills_inactive_file() ? srcs_.front()->name() : "cgroupfs";
  }

 private:
  Sampler(cg::Hierarchy h, std::vector<std::string> walk_roots) : ids_(std::move(h), std::move(walk_roots)) {}
  bool selected(const std::string& path) const;
  // One source per walk root: a --cgroup P run walks P's subtree, not the node's.
  std::vector<std::unique_ptr<Source>> srcs_;
  cg::IdCache ids_;
  std::vector<std::string> roots_;
};

}  // namespace ow::sampler
