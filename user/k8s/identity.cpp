#include "k8s/identity.hpp"

#include <algorithm>
#include <vector>

#include "util/fs.hpp"

namespace ow::k8s {
namespace {

bool valid_id(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  });
}

// "<runtime>-<id>.scope" (systemd) or a bare id (cgroupfs; some runtimes
// prefix it there too). CRI-O's conmon is not a container.
bool container_of(std::string_view c, bool systemd, CgroupIdentity& out) {
  static const struct { const char* prefix; const char* runtime; } runtimes[] = {
      {"cri-containerd-", "containerd"}, {"crio-", "crio"}, {"docker-", "docker"}};
  if (c.starts_with("crio-conmon-")) return false;
  bool scope = c.ends_with(".scope");
  if (scope) c.remove_suffix(6);
  for (const auto& r : runtimes)
    if (c.starts_with(r.prefix)) {
      c.remove_prefix(std::string_view(r.prefix).size());
      out.runtime = r.runtime;
      break;
    }
  if (systemd && (!scope || out.runtime.empty())) return false;
  if (!systemd && scope && out.runtime.empty()) return false;
  if (!valid_id(c)) return false;
  out.container_id = std::string(c);
  return true;
}

std::optional<CgroupIdentity> parse_cgroupfs(const std::vector<std::string_view>& c, size_t i) {
  CgroupIdentity id;
  id.qos = "guaranteed";
  if (i < c.size() && (c[i] == "burstable" || c[i] == "besteffort")) id.qos = std::string(c[i++]);
  if (i >= c.size() || !c[i].starts_with("pod") || c[i].size() <= 3) return std::nullopt;
  id.pod_uid = std::string(c[i].substr(3));
  if (!valid_id(id.pod_uid)) return std::nullopt;
  ++i;
  if (i == c.size()) return id;
  if (i + 1 != c.size() || !container_of(c[i], false, id)) return std::nullopt;
  return id;
}

// base: the kubepods slice's name without ".slice" ("kubepods", or
// "kubelet-kubepods" under a cgroup root); systemd names children after it.
std::optional<CgroupIdentity> parse_systemd(const std::vector<std::string_view>& c, size_t i, std::string_view base) {
  CgroupIdentity id;
  id.qos = "guaranteed";
  std::string pod_prefix = std::string(base) + "-pod";
  for (const char* q : {"burstable", "besteffort"})
    if (i < c.size() && c[i] == std::string(base) + "-" + q + ".slice") {
      id.qos = q;
      pod_prefix = std::string(base) + "-" + q + "-pod";
      ++i;
      break;
    }
  if (i >= c.size() || !c[i].starts_with(pod_prefix) || !c[i].ends_with(".slice")) return std::nullopt;
  std::string_view uid = c[i].substr(pod_prefix.size());
  uid.remove_suffix(6);
  id.pod_uid = std::string(uid);
  std::replace(id.pod_uid.begin(), id.pod_uid.end(), '_', '-');
  if (!valid_id(id.pod_uid)) return std::nullopt;
  ++i;
  if (i == c.size()) return id;
  if (i + 1 != c.size() || !container_of(c[i], true, id)) return std::nullopt;
  return id;
}

}  // namespace

std::optional<CgroupIdentity> parse_cgroup_path(std::string_view path) {
  auto c = split(path, '/');
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] == "kubepods") return parse_cgroupfs(c, i + 1);
    // "kubepods.slice", or nested under a cgroup root: "kubelet-kubepods.slice".
    if (c[i] == "kubepods.slice" || c[i].ends_with("-kubepods.slice"))
      return parse_systemd(c, i + 1, c[i].substr(0, c[i].size() - 6));
  }
  return std::nullopt;
}

bool kubernetes_owned(std::string_view path) {
  for (auto c : split(path, '/'))
    if (c == "kubepods" || (c.ends_with(".slice") && c.find("kubepods") != std::string_view::npos)) return true;
  return false;
}

std::optional<RuntimeContainer> parse_runtime_container(std::string_view path) {
  if (kubernetes_owned(path)) return std::nullopt;
  auto c = split(path, '/');
  while (!c.empty() && c.back().empty()) c.pop_back();
  if (c.empty()) return std::nullopt;
  std::string_view leaf = c.back();
  RuntimeContainer out;
  static const struct { const char* prefix; const char* runtime; } prefixes[] = {
      {"docker-", "docker"}, {"cri-containerd-", "containerd"}, {"crio-", "crio"}, {"libpod-", "podman"}};
  bool scope = leaf.ends_with(".scope");
  if (scope) leaf.remove_suffix(6);
  for (const auto& p : prefixes)
    if (leaf.starts_with(p.prefix)) {
      leaf.remove_prefix(std::string_view(p.prefix).size());
      out.runtime = p.runtime;
      break;
    }
  if (scope && out.runtime.empty()) return std::nullopt;  // a systemd scope of something else
  bool hex64 = leaf.size() == 64 &&
               std::all_of(leaf.begin(), leaf.end(), [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
  if (!hex64) return std::nullopt;
  if (out.runtime.empty() && c.size() >= 2) {
    if (c[c.size() - 2] == "docker") out.runtime = "docker";
    if (c[c.size() - 2] == "libpod_parent") out.runtime = "podman";
  }
  out.id = std::string(leaf);
  return out;
}

std::optional<PodLogDir> parse_pod_log_dir(std::string_view name) {
  size_t a = name.find('_');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = name.find('_', a + 1);
  if (b == std::string_view::npos || name.find('_', b + 1) != std::string_view::npos) return std::nullopt;
  PodLogDir d{std::string(name.substr(0, a)), std::string(name.substr(a + 1, b - a - 1)), std::string(name.substr(b + 1))};
  if (d.ns.empty() || d.pod.empty() || !valid_id(d.uid)) return std::nullopt;
  return d;
}

std::optional<ContainerLog> parse_container_log(std::string_view name) {
  if (!name.ends_with(".log")) return std::nullopt;
  name.remove_suffix(4);
  size_t a = name.find('_');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = name.find('_', a + 1);
  if (b == std::string_view::npos || name.find('_', b + 1) != std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(b + 1);
  size_t dash = rest.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  ContainerLog l{std::string(name.substr(0, a)), std::string(name.substr(a + 1, b - a - 1)),
                 std::string(rest.substr(0, dash)), std::string(rest.substr(dash + 1))};
  if (l.pod.empty() || l.ns.empty() || !valid_id(l.container_id)) return std::nullopt;
  return l;
}

}  // namespace ow::k8s
