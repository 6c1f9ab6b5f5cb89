#include "bpf/bpffs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "util/fs.hpp"

namespace ow::bpf {
namespace {

bool under_root(const std::string& dir) {
  const std::string sys = kBpfFsRoot;
  return dir == sys || dir.rfind(sys + "/", 0) == 0;
}

// dir itself when it exists, else its nearest existing ancestor.
std::string nearest_existing(const std::string& dir) {
  std::string existing = dir;
  struct stat st;
  while (!existing.empty() && ::stat(existing.c_str(), &st) != 0) {
    auto s = existing.rfind('/');
    existing = s == std::string::npos ? "." : s == 0 ? "/" : existing.substr(0, s);
  }
  return existing;
}

}  // namespace

bool on_bpffs(const std::string& path) {
  struct statfs sf;
  return ::statfs(path.c_str(), &sf) == 0 && static_cast<long>(sf.f_type) == kBpfFsMagic;
}

Status check_pin_dir(const std::string& dir) {
  // Under /sys/fs/bpf, bpffs is mounted there when it is not yet (ensure_pin_dir).
  if (under_root(dir) && !on_bpffs(kBpfFsRoot)) return {};
  const std::string existing = nearest_existing(dir);
  if (on_bpffs(existing)) return {};
  const std::string mount = existing == dir ? "mount -t bpf bpf " + dir : "mkdir -p " + dir + " && mount -t bpf bpf " + dir;
  return app_error("--pin-dir " + dir + " is not on a bpf filesystem (" + existing +
                   " is not one): mount bpffs there (" + mount + ") or pick a dir under " + kBpfFsRoot +
                   " (or --pin-dir none)");
}

Status ensure_pin_dir(const std::string& dir, std::vector<std::string>* created) {
  if (under_root(dir) && !on_bpffs(kBpfFsRoot) && ::mount("bpf", kBpfFsRoot, "bpf", 0, nullptr) != 0)
    return sys_error("mount bpffs at", kBpfFsRoot);
  if (auto s = check_pin_dir(dir); !s) return s;
  // Each level, parents first, noting the ones made here, so the caller can
  // remove exactly those (deepest first) and no dir it did not make.
  std::vector<std::string> made;
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    const std::string cur = dir.substr(0, i);
    if (::mkdir(cur.c_str(), 0700) == 0) {
      made.push_back(cur);
    } else if (errno != EEXIST) {
      auto e = sys_error("mkdir", cur);
      for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
      return e;
    }
  }
  if (created) created->insert(created->end(), made.begin(), made.end());
  return {};
}

}  // namespace ow::bpf
