#include "cgroup/idcache.hpp"

namespace ow::cg {

std::string IdCache::path(uint64_t id) {
  if (id == 0) return "";
  auto it = ids_.find(id);
  if (it != ids_.end()) return it->second.path;
  // An id that a rewalk did not find belongs to a removed cgroup: do not walk
  // the whole tree again for it on every lookup.
  if (missing_.count(id)) return "";
  if (batch_ && walked_in_batch_) return "";  // this batch's walk did not see it: not live then
  merge_walk();  // keeps paths of removed cgroups
  walked_in_batch_ = batch_;
  it = ids_.find(id);
  if (it == ids_.end()) {
    if (missing_.size() >= kMaxMissing) missing_.clear();  // at worst one more walk for an old id
    missing_.insert(id);
    return "";
  }
  return it->second.path;
}

void IdCache::merge_walk() {
  ++walks_;
  auto add = [&](std::map<uint64_t, std::string> found) {
    for (auto& [k, v] : found) ids_[k] = Entry{std::move(v), walks_};
  };
  if (roots_.empty()) {
    add(h_.walk());
  } else {
    for (const auto& r : roots_) add(h_.walk(r));
  }
  // Gone before the walk before this one: nothing will ask for it any more.
  std::erase_if(ids_, [&](const auto& e) { return e.second.walk + 1 < walks_; });
}

}  // namespace ow::cg
