#include "stress/run_env.hpp"

#include "util/units.hpp"

namespace ow::stress {

// Room left on the disk besides the file: a run must not fill the node's disk.
constexpr uint64_t kDiskMarginBytes = 256ull << 20;

FileDirSetup prepare_file_dir(Strategy s, const std::string& user_dir, uint64_t file_bytes, const std::string& tag) {
  FileDirSetup out;
  if (!uses_kind(s, Kind::File)) return out;
  std::string base = user_dir;
  if (!base.empty()) {
    auto ok = check_disk_dir(base);
    if (!ok) {
      out.failure = FileDirError{true, app_error("--file-dir: " + ok.error().message()), ""};
      return out;
    }
  } else {
    auto d = default_disk_dir();
    if (!d) {
      out.failure = FileDirError{false, d.error(), "pass --file-dir DIR on a disk filesystem (ext4, xfs, ...)"};
      return out;
    }
    base = *d;
  }
  auto free = free_disk_bytes(base);
  if (free && *free < file_bytes + kDiskMarginBytes) {
    out.failure = FileDirError{false,
                               app_error("not enough disk for the file strategy (" + format_size(file_bytes) +
                                         " to write, " + format_size(*free) + " free) in", base),
                               "pass --file-dir on a larger filesystem, or a smaller size"};
    return out;
  }
  auto dir = ScopedTempDir::create(base, tag);
  if (!dir) {
    out.failure = FileDirError{false, dir.error(), "pass --file-dir DIR where root can write"};
    return out;
  }
  out.dir.emplace(std::move(*dir));
  return out;
}

}  // namespace ow::stress
