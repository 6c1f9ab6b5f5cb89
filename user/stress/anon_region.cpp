// Private anonymous memory: the kind the OOM killer cannot reclaim without swap.
#include <sys/mman.h>
#include <unistd.h>

#include "stress/region.hpp"

namespace ow::stress {

namespace {

class AnonRegion : public Region {
 public:
  ~AnonRegion() override {
    for (const auto& c : chunks_) ::munmap(c.addr, c.len);
  }

  // One mapping per chunk rather than one big reservation: a big mmap can be
  // refused by overcommit accounting long before the cgroup limit is reached.
  Status grow(uint64_t bytes) override {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return sys_error("mmap " + std::to_string(bytes) + " bytes of anonymous memory");
    chunks_.push_back({0, bytes, static_cast<char*>(p)});
    touch_pages(static_cast<char*>(p), bytes, page_size());
    bytes_ += bytes;
    return {};
  }

  Status recycle(size_t i) override {
    auto& c = chunks_.at(i);
    if (::madvise(c.addr, c.len, MADV_DONTNEED) != 0) return sys_error("madvise(MADV_DONTNEED) anonymous chunk");
    touch_pages(c.addr, c.len, page_size());
    return {};
  }
};

}  // namespace

std::unique_ptr<Region> make_anon_region() { return std::make_unique<AnonRegion>(); }

}  // namespace ow::stress
