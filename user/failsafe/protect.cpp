#include "failsafe/protect.hpp"

#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>

#include "util/fs.hpp"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace ow::failsafe {

void compact_heap() {
  // One arena for every thread: glibc gives each new thread an arena of its
  // own, and each kept the high-water mark of the transients its thread made
  // (a recommendation round, a /metrics page) as free space it could not hand
  // back around a few live objects. The soak measured it: 3 MB in use and
  // 15 MB free in the arenas after 11 minutes with one arena per thread; with
  // one arena, 2.5 to 4.7 MB free at 12 to 23 minutes. The agent's threads
  // allocate little, so they seldom meet on the arena's lock.
  // (A fixed M_MMAP_THRESHOLD of 256 KiB was tried too: it cost the agent
  // about 0.2 % of a core more at 1,000-2,000 cgroups, each snapshot's
  // vectors being mapped and unmapped; its own effect on RSS was not
  // measured apart from the one arena's.)
  ::mallopt(M_ARENA_MAX, 1);
}

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
  compact_heap();
  return warnings;
}

}  // namespace ow::failsafe
