// cgroup id -> path, cached. A miss rewalks the hierarchy once (new cgroups),
// so lookups of fresh ids stay correct without walking on every event.
// A cgroup removed since is reported under its last known path until the
// walk after the one that missed it: an event that comes just after its
// cgroup went still has a name, and the cache holds the live cgroups and the
// last walk's dead, not every cgroup the node ever had.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"

namespace ow::cg {

class IdCache {
 public:
  // roots: the subtrees whose ids are looked up (empty: the whole hierarchy);
  // walking only them keeps a narrow lookup cheap on a node with many cgroups.
  explicit IdCache(Hierarchy h, std::vector<std::string> roots = {}) : h_(std::move(h)), roots_(std::move(roots)) {}
  // "" when the id is unknown even after a rewalk (cgroup already gone).
  std::string path(uint64_t id);
  void refresh() {
    ids_.clear();
    merge_walk();
    missing_.clear();
  }
  const Hierarchy& hierarchy() const { return h_; }
  // A batch: the lookups of one snapshot. Within it at most one rewalk: a
  // walk saw every cgroup live at that moment, so an id it missed was
  // removed or made after it, and the next batch's walk names the latter.
  // Without this, a snapshot of thousands of cgroups removed since its walk
  // (a node tearing down pods) rewalked the whole tree once per id. An id
  // missed that way is not remembered as gone.
  void begin_batch() {
    batch_ = true;
    walked_in_batch_ = false;
  }
  void end_batch() { batch_ = false; }
  uint64_t walks() const { return walks_; }

 private:
  void merge_walk();  // every id under the roots into ids_ (kept ones stay)
  Hierarchy h_;
  std::vector<std::string> roots_;
  struct Entry {
    std::string path;
    uint64_t walk = 0;  // the last walk that found it
  };
  std::unordered_map<uint64_t, Entry> ids_;
  uint64_t walks_ = 0;
  bool batch_ = false, walked_in_batch_ = false;
  std::unordered_set<uint64_t> missing_;  // ids of cgroups already gone (cleared past kMaxMissing)
  static constexpr size_t kMaxMissing = 4096;
};

}  // namespace ow::cg
