// The one line `oomwatch run` logs when it stops: what it put back (v1
// oom_kill_disable, v2 memory.high guards, GOMEMLIMIT hints), with counts,
// and whether anything is left changed. Pure: the daemon's shutdown fills
// StopCounts from what each restore step reported.
//   stopped: restored 3 oom_kill_disable, 2 memory.high guards, withdrew 1 GOMEMLIMIT hint; nothing left changed
//   stopped: nothing to restore; nothing left changed
//   stopped: restored nothing; left changed: 2 settings (...); run 'oomwatch restore'
// Limits are not in it: a finished rescue's limits stay (docs/safety.md), and
// a half-applied plan cannot outlive a clean stop (plans run on the loop).
#pragma once
#include <cstddef>
#include <string>

namespace ow::agent {

struct StopCounts {
  int oom_kill_disable = 0;  // v1 memory.oom_control put back (a managed parent's descendants included)
  int memory_high = 0;       // v2 memory.high guards put back
  size_t hints = 0;          // GOMEMLIMIT hints withdrawn
  bool hints_on = false;     // --hints: say the count even when it is 0
  size_t settings_left = 0;  // journal entries that could not be written back
  std::string settings_error, hints_error;
};

std::string stop_line(const StopCounts& c);

}  // namespace ow::agent
