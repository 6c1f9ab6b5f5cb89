#include "agent/protect.hpp"

#include <signal.h>
#include <sys/mman.h>

#include "util/fs.hpp"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace ow::agent {

std::vector<std::string> protect_self() {
  std::vector<std::string> warnings;
  ::signal(SIGPIPE, SIG_IGN);
  if (auto s = write_text("/proc/self/oom_score_adj", "-1000"); !s)
    warnings.push_back("oom_score_adj -1000: " + s.error().message());
  // MCL_ONFAULT: lock pages as they are touched, so thread stacks and the
  // ring buffer's reserved address space do not all become resident now.
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
    warnings.push_back(sys_error("mlockall").message());
  return warnings;
}

}  // namespace ow::agent
