// cgroup id -> path, cached. A miss rewalks the hierarchy once (new cgroups),
// so lookups of fresh ids stay correct without walking on every event.
// A cgroup removed since is reported under its last known path.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <string>

#include "cgroup/hierarchy.hpp"

namespace ow::cg {

class IdCache {
 public:
  explicit IdCache(Hierarchy h) : h_(std::move(h)) {}
  // "" when the id is unknown even after a rewalk (cgroup already gone).
  std::string path(uint64_t id);
  void refresh() {
    ids_.clear();
    for (auto& [id, rel] : h_.walk()) ids_.emplace(id, std::move(rel));
    missing_.clear();
  }
  const Hierarchy& hierarchy() const { return h_; }

 private:
  Hierarchy h_;
  std::unordered_map<uint64_t, std::string> ids_;
  std::unordered_set<uint64_t> missing_;  // ids of cgroups already gone
};

}  // namespace ow::cg
