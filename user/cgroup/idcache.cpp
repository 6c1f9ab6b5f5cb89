#include "cgroup/idcache.hpp"

namespace ow::cg {

std::string IdCache::path(uint64_t id) {
  if (id == 0) return "";
  auto it = ids_.find(id);
  if (it != ids_.end()) return it->second;
  // An id that a rewalk did not find belongs to a removed cgroup: do not walk
  // the whole tree again for it on every lookup.
  if (missing_.count(id)) return "";
  merge_walk();  // keeps paths of removed cgroups
  it = ids_.find(id);
  if (it == ids_.end()) {
    missing_.insert(id);
    return "";
  }
  return it->second;
}

void IdCache::merge_walk() {
  if (roots_.empty()) {
    for (auto& [k, v] : h_.walk()) ids_[k] = std::move(v);
    return;
  }
  for (const auto& r : roots_)
    for (auto& [k, v] : h_.walk(r)) ids_[k] = std::move(v);
}

}  // namespace ow::cg
