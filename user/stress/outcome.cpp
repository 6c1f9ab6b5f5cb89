#include "stress/outcome.hpp"

#include <signal.h>

namespace ow::stress {

Outcome classify(const cg::ExitStatus& st, uint64_t oom_kill_before, uint64_t oom_kill_after) {
  Outcome o;
  // A counter that went down means the cgroup was recreated under us: no evidence.
  o.oom_kills = oom_kill_after > oom_kill_before ? oom_kill_after - oom_kill_before : 0;
  o.exit_code = st.exit_code;
  o.oom_killed = st.signaled && st.signal == SIGKILL && o.oom_kills > 0;
  return o;
}

}  // namespace ow::stress
