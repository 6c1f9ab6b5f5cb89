#include "bpf/bpffs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "util/fs.hpp"

namespace ow::bpf {

bool on_bpffs(const std::string& path) {
  struct statfs sf;
  return ::statfs(path.c_str(), &sf) == 0 && static_cast<long>(sf.f_type) == kBpfFsMagic;
}

Status ensure_pin_dir(const std::string& dir) {
  const std::string sys = kBpfFsRoot;
  if ((dir == sys || dir.rfind(sys + "/", 0) == 0) && !on_bpffs(sys) &&
      ::mount("bpf", sys.c_str(), "bpf", 0, nullptr) != 0)
    return sys_error("mount bpffs at", sys);
  std::string existing = dir;
  struct stat st;
  while (!existing.empty() && ::stat(existing.c_str(), &st) != 0) {
    auto s = existing.rfind('/');
    existing = s == std::string::npos || s == 0 ? "/" : existing.substr(0, s);
  }
  if (!on_bpffs(existing))
    return app_error("pins need a bpf filesystem (mount -t bpf bpf DIR, or a --pin-dir under /sys/fs/bpf);",
                     existing + " is not one");
  return mkdir_p(dir, 0700);
}

}  // namespace ow::bpf
