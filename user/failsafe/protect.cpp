#include "failsafe/protect.hpp"

#include <signal.h>
#include <sys/mman.h>

#include "util/fs.hpp"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace ow::failsafe {

std::vector<std::string> protect_self() {
  std::vector<std::string> warnings;
  ::signal(SIGPIPE, SIG_IGN);
  if (auto s = write_text("/proc/self/oom_score_adj", "-1000"); !s)
    warnings.push_back("oom_score_adj -1000: " + s.error().message());
  // What is mapped now, before any worker thread: the binary (the rescue
  // path's code, never paged back in from disk under pressure), the main
  // thread's stack and heap. MCL_ONFAULT: each page as it is first touched.
  // Not MCL_FUTURE: the kernel refuses madvise(MADV_DONTNEED) on locked
  // memory (EINVAL), so glibc could never hand freed pages back, and every
  // arena's RSS only ever rose to its fragmented high-water mark (the soak:
  // 12 to 36 MiB in 26 min with a live heap under 3 MB). Later anonymous
  // memory is not locked; on a node without swap it is never reclaimed anyway.
  if (::mlockall(MCL_CURRENT | MCL_ONFAULT) != 0)
    warnings.push_back(sys_error("mlockall").message());
  return warnings;
}

}  // namespace ow::failsafe
