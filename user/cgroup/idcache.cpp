#include "cgroup/idcache.hpp"

namespace ow::cg {

std::string IdCache::path(uint64_t id) {
  if (id == 0) return "";
  auto it = ids_.find(id);
  if (it != ids_.end()) return it->second;
  // An id that a rewalk did not find belongs to a removed cgroup: do not walk
  // the whole tree again for it on every lookup.
  if (missing_.count(id)) return "";
  auto fresh = h_.walk();
  for (auto& [k, v] : fresh) ids_[k] = v;  // keep paths of removed cgroups
  it = ids_.find(id);
  if (it == ids_.end()) {
    missing_.insert(id);
    return "";
  }
  return it->second;
}

}  // namespace ow::cg
