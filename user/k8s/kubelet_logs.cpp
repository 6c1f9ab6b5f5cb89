#include "k8s/kubelet_logs.hpp"

#include <dirent.h>

#include <cerrno>
#include <functional>

namespace ow::k8s {
namespace {

// Calls f with each entry name; a missing directory has none.
Status list_dir(const std::string& dir, const std::function<void(const std::string&)>& f) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    return sys_error("list kubelet log directory", dir);
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") f(n);
  }
  ::closedir(d);
  return {};
}

}  // namespace

Result<KubeletNames> read_kubelet_logs(const std::string& log_dir) {
  KubeletNames out;
  if (auto st = list_dir(log_dir + "/pods",
                         [&](const std::string& n) {
                           if (auto p = parse_pod_log_dir(n)) out.pods_by_uid[p->uid] = *p;
                         });
      !st)
    return st.error();
  if (auto st = list_dir(log_dir + "/containers",
                         [&](const std::string& n) {
                           if (auto c = parse_container_log(n)) out.containers_by_id[c->container_id] = *c;
                         });
      !st)
    return st.error();
  return out;
}

std::optional<Named> name_cgroup(const std::string& path, const KubeletNames& names) {
  auto id = parse_cgroup_path(path);
  if (!id) return std::nullopt;
  Named n;
  n.id = *id;
  if (auto p = names.pods_by_uid.find(id->pod_uid); p != names.pods_by_uid.end()) {
    n.ns = p->second.ns;
    n.pod = p->second.pod;
  }
  if (!id->container_id.empty())
    if (auto c = names.containers_by_id.find(id->container_id); c != names.containers_by_id.end()) {
      n.container = c->second.container;
      if (n.pod.empty()) {  // the pod directory is gone; the container log still names it
        n.ns = c->second.ns;
        n.pod = c->second.pod;
      }
    }
  return n;
}

std::string display_name(const Named& n) {
  std::string s = n.pod.empty() ? "pod " + n.id.pod_uid : n.ns + "/" + n.pod;
  if (!n.id.container_id.empty())
    s += "/" + (n.container.empty() ? "container " + n.id.container_id.substr(0, 12) : n.container);
  return s;
}

}  // namespace ow::k8s
