// Page cache of a file on a disk filesystem: charged to the cgroup of the task
// that brings a page into the cache, and reclaimable, so a cgroup at its limit
// drops old pages instead of OOM-killing (unlike tmpfs, which is shmem).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "stress/region.hpp"
#include "util/fd.hpp"

namespace ow::stress {
namespace {

constexpr uint64_t kIoBytes = 1 << 20;

class FileRegion : public Region {
 public:
  FileRegion(UniqueFd fd, std::string dir) : fd_(std::move(fd)), dir_(std::move(dir)), buf_(kIoBytes, 0x5a) {}

  Status grow(uint64_t bytes) override {
    auto written = through_buf(bytes_, bytes, "write temp file in",
                               [this](size_t n, off_t at) { return ::pwrite(fd_.get(), buf_.data(), n, at); });
    if (!written) return written;
    // Clean pages are what reclaim can drop at once; dirty ones must wait for
    // writeback, and a memcg full of dirty cache can OOM where a real
    // page-cache workload would not.
    if (::fdatasync(fd_.get()) != 0) return sys_error("fdatasync temp file in", dir_);
    chunks_.push_back({bytes_, bytes, nullptr});
    bytes_ += bytes;
    return {};
  }

  // Drops the chunk from the page cache and reads it back in: the re-read
  // charges the pages to this worker's cgroup again.
  Status recycle(size_t i) override {
    const auto& c = chunks_.at(i);
    (void)::posix_fadvise(fd_.get(), static_cast<off_t>(c.offset), static_cast<off_t>(c.len), POSIX_FADV_DONTNEED);
    return read_range(c.offset, c.len);
  }

  // Re-reading keeps the pages recently used; pages reclaim did drop come back
  // and are charged again, so the cache stays charged while the worker holds it.
  Status keepalive() override { return read_range(0, bytes_); }

 private:
  Status read_range(uint64_t off, uint64_t len) {
    return through_buf(off, len, "read temp file in",
                       [this](size_t n, off_t at) { return ::pread(fd_.get(), buf_.data(), n, at); });
  }

  // [off, off + len) of the file through buf_, kIoBytes at a time: io(n, at)
  // is one pread or pwrite, retried on EINTR, continued when short.
  template <class Io>
  Status through_buf(uint64_t off, uint64_t len, const char* what, Io io) {
    for (uint64_t done = 0; done < len;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kIoBytes, len - done));
      ssize_t r = io(n, static_cast<off_t>(off + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return sys_error(what, dir_);
      done += static_cast<uint64_t>(r);
    }
    return {};
  }

  UniqueFd fd_;
  std::string dir_;
  std::vector<char> buf_;
};

}  // namespace

Result<std::unique_ptr<Region>> make_file_region(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid() && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE on this filesystem: a named file, unlinked at once.
    std::string path = dir + "/fileXXXXXX";
    fd.reset(::mkostemp(path.data(), O_CLOEXEC));
    if (fd.valid()) ::unlink(path.c_str());
  }
  if (!fd.valid()) return sys_error("create temp file in", dir);
  return std::unique_ptr<Region>(std::make_unique<FileRegion>(std::move(fd), dir));
}

}  // namespace ow::stress
