// memfd (shmem) pages: charged like tmpfs, unreclaimable without swap. Mapped
// and touched, so they also count in the worker's RSS and the OOM killer sees
// the worker as the owner; the memfd dies with the worker, freeing them.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stress/region.hpp"
#include "util/fd.hpp"

namespace ow::stress {
namespace {

class ShmemRegion : public Region {
 public:
  explicit ShmemRegion(UniqueFd fd) : fd_(std::move(fd)) {}
  ~ShmemRegion() override {
    for (const auto& c : chunks_) ::munmap(c.addr, c.len);
  }

  Status grow(uint64_t bytes) override {
    if (::ftruncate(fd_.get(), static_cast<off_t>(bytes_ + bytes)) != 0) return sys_error("ftruncate memfd");
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), static_cast<off_t>(bytes_));
    if (p == MAP_FAILED) return sys_error("mmap memfd");
    chunks_.push_back({bytes_, bytes, static_cast<char*>(p)});
    touch_pages(static_cast<char*>(p), bytes, page_size());
    bytes_ += bytes;
    return {};
  }

  // Punching a hole frees the shmem pages (and unmaps them); touching the
  // mapping allocates and charges fresh ones.
  Status recycle(size_t i) override {
    auto& c = chunks_.at(i);
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(c.offset),
                    static_cast<off_t>(c.len)) != 0)
      return sys_error("punch hole in memfd");
    touch_pages(c.addr, c.len, page_size());
    return {};
  }

 private:
  UniqueFd fd_;
};

}  // namespace

Result<std::unique_ptr<Region>> make_shmem_region() {
  UniqueFd fd(::memfd_create("oomwatch-stress", MFD_CLOEXEC));
  if (!fd.valid()) return sys_error("memfd_create");
  return std::unique_ptr<Region>(std::make_unique<ShmemRegion>(std::move(fd)));
}

}  // namespace ow::stress
