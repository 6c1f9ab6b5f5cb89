// A directory of our own, on a disk-backed filesystem, for the file strategy.
// It must not be tmpfs/ramfs: pages written there are shmem, not page cache,
// and the "file" run would silently measure shmem instead.
#pragma once
#include <cstdint>
#include <string>

#include "util/result.hpp"

namespace ow::stress {

// Error when dir is missing, not a directory, or memory-backed (tmpfs, ramfs).
Status check_disk_dir(const std::string& dir);
// $TMPDIR, /var/tmp, /tmp: the first that passes check_disk_dir.
Result<std::string> default_disk_dir();
Result<uint64_t> free_disk_bytes(const std::string& dir);

class ScopedTempDir {
 public:
  // mkdtemp <base>/oomwatch-<tag>-XXXXXX
  static Result<ScopedTempDir> create(const std::string& base, const std::string& tag);
  ScopedTempDir(ScopedTempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  ScopedTempDir& operator=(ScopedTempDir&&) = delete;
  // Removes the files left inside (a worker killed between creating and
  // unlinking a named temp file) and the directory.
  ~ScopedTempDir();
  const std::string& path() const { return path_; }

 private:
  explicit ScopedTempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

}  // namespace ow::stress
