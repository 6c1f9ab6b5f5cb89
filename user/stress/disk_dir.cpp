#include "stress/disk_dir.hpp"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace ow::stress {

Status check_disk_dir(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return sys_error("file directory", dir);
  if (!S_ISDIR(st.st_mode)) return app_error("not a directory:", dir);
  struct statfs fs;
  if (::statfs(dir.c_str(), &fs) != 0) return sys_error("statfs", dir);
  if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)
    return app_error("file directory is memory-backed (tmpfs/ramfs), its pages would be shmem, not page cache:", dir);
  return {};
}

Result<std::string> default_disk_dir() {
  std::vector<std::string> candidates;
  if (const char* t = std::getenv("TMPDIR"); t && *t) candidates.emplace_back(t);
  candidates.emplace_back("/var/tmp");
  candidates.emplace_back("/tmp");
  for (const auto& c : candidates)
    if (check_disk_dir(c)) return c;
  return app_error("no disk-backed temp directory ($TMPDIR, /var/tmp and /tmp are missing or tmpfs)");
}

Result<uint64_t> free_disk_bytes(const std::string& dir) {
  struct statvfs v;
  if (::statvfs(dir.c_str(), &v) != 0) return sys_error("statvfs", dir);
  return static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
}

Result<ScopedTempDir> ScopedTempDir::create(const std::string& base, const std::string& tag) {
  std::string tmpl = base + "/oomwatch-" + tag + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return sys_error("create temp directory in", base);
  return ScopedTempDir(tmpl);
}

ScopedTempDir::~ScopedTempDir() {
  if (path_.empty()) return;
  if (DIR* d = ::opendir(path_.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ::unlink((path_ + "/" + e->d_name).c_str());
    ::closedir(d);
  }
  ::rmdir(path_.c_str());
}

}  // namespace ow::stress
