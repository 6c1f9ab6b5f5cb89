#include "k8s/name_cache.hpp"

#include <map>

namespace ow::k8s {

NameCache::NameCache(std::string log_dir)
    : read_([dir = std::move(log_dir)]() { return read_kubelet_logs(dir); }) {}

bool NameCache::learn(const std::vector<std::string>& paths, int64_t now_ns) {
  // What the paths need: pod uids and container ids (pure string parsing).
  std::set<std::string> uids, ids;
  for (const auto& p : paths)
    if (auto id = parse_cgroup_path(p)) {
      uids.insert(id->pod_uid);
      if (!id->container_id.empty()) ids.insert(id->container_id);
    }
  std::lock_guard<std::mutex> lk(mu_);
  // A name never looked for reads now; one the last read lacked waits kRetryNs.
  bool unseen = false, retry = false;
  auto need = [&](const std::string& key, bool known) {
    if (known) return;
    if (missing_.count(key)) retry = true;
    else unseen = true;
  };
  for (const auto& u : uids) need(u, names_.pods_by_uid.count(u) > 0);
  for (const auto& c : ids) need(c, names_.containers_by_id.count(c) > 0);
  bool read = unseen || (retry && (!read_once_ || now_ns - last_read_ns_ >= kRetryNs));
  KubeletNames fresh;
  if (read) {
    auto r = read_();
    if (r) fresh = std::move(*r);
    read_once_ = true;
    last_read_ns_ = now_ns;
    ++reads_;
  }
  // Keep only what the paths name: the rest of the node's pods are not shown.
  KubeletNames kept;
  std::set<std::string> missing;
  for (const auto& u : uids) {
    auto& src = read ? fresh.pods_by_uid : names_.pods_by_uid;
    if (auto it = src.find(u); it != src.end()) kept.pods_by_uid.emplace(u, it->second);
    else if (auto old = names_.pods_by_uid.find(u); old != names_.pods_by_uid.end()) kept.pods_by_uid.emplace(u, old->second);
    else missing.insert(u);
  }
  for (const auto& c : ids) {
    auto& src = read ? fresh.containers_by_id : names_.containers_by_id;
    if (auto it = src.find(c); it != src.end()) kept.containers_by_id.emplace(c, it->second);
    else if (auto old = names_.containers_by_id.find(c); old != names_.containers_by_id.end())
      kept.containers_by_id.emplace(c, old->second);
    else missing.insert(c);
  }
  names_ = std::move(kept);
  missing_ = std::move(missing);
  return read;
}

EventIdentity NameCache::lookup(const std::string& path) const {
  std::lock_guard<std::mutex> lk(mu_);
  return identify(path, names_);
}

size_t NameCache::reads() const {
  std::lock_guard<std::mutex> lk(mu_);
  return reads_;
}

}  // namespace ow::k8s
