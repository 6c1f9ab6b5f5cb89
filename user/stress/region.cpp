#include "stress/region.hpp"

#include <unistd.h>

namespace ow::stress {

uint64_t page_size() {
  static const uint64_t p = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

void touch_pages(char* p, uint64_t len, uint64_t page_bytes) {
  volatile char* v = p;
  for (uint64_t off = 0; off < len; off += page_bytes) v[off] = 0x5a;
}

}  // namespace ow::stress
