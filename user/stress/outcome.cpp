#include "stress/outcome.hpp"

#include <signal.h>

namespace ow::stress {

Result<RunStart> read_run_start(const cg::Hierarchy& h, const std::string& rel) {
  auto events = h.events(rel);
  if (!events) return events.error();
  auto limit = h.limit(rel);
  if (!limit) return limit.error();
  return RunStart{*limit, *events};
}

uint64_t counter_delta(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

Outcome classify(const cg::ExitStatus& st, uint64_t oom_kill_before, uint64_t oom_kill_after) {
  Outcome o;
  o.oom_kills = counter_delta(oom_kill_after, oom_kill_before);
  o.exit_code = st.exit_code;
  o.oom_killed = st.signaled && st.signal == SIGKILL && o.oom_kills > 0;
  return o;
}

}  // namespace ow::stress
