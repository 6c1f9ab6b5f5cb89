// Was the worker OOM-killed? Pure: decided from its exit status and the
// cgroup's oom_kill counter around the run.
#pragma once
#include <cstdint>

#include "cgroup/scoped.hpp"

namespace ow::stress {

struct Outcome {
  bool oom_killed = false;  // died of SIGKILL while the cgroup counted an OOM kill
  uint64_t oom_kills = 0;   // the cgroup's oom_kill counter increase (any task in it)
  int exit_code = 0;        // shell convention: 137 for SIGKILL
};

// SIGKILL alone proves nothing (kill -9, or oomwatch stopping the worker), and
// the counter alone may count another task of a shared cgroup: both are needed.
Outcome classify(const cg::ExitStatus& st, uint64_t oom_kill_before, uint64_t oom_kill_after);

}  // namespace ow::stress
