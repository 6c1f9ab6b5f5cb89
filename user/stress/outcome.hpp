// What a run did to its cgroup: the counters and limit as it starts, their
// increase since, and whether the worker was OOM-killed. classify and
// counter_delta are pure.
#pragma once
#include <cstdint>
#include <string>

#include "cgroup/scoped.hpp"

namespace ow::stress {

// The cgroup as a run starts, read before its first worker.
struct RunStart {
  uint64_t limit_bytes = 0;  // kUnlimited when none
  cg::MemEvents events;      // what the run's OOM kills and max events count from
};
Result<RunStart> read_run_start(const cg::Hierarchy& h, const std::string& rel);

// How much a cgroup counter rose since `before`; 0 when it went down (the
// cgroup was recreated under us: no evidence).
uint64_t counter_delta(uint64_t now, uint64_t before);

struct Outcome {
  bool oom_killed = false;  // died of SIGKILL while the cgroup counted an OOM kill
  uint64_t oom_kills = 0;   // the cgroup's oom_kill counter increase (any task in it)
  int exit_code = 0;        // shell convention: 137 for SIGKILL
};

// SIGKILL alone proves nothing (kill -9, or oomwatch stopping the worker), and
// the counter alone may count another task of a shared cgroup: both are needed.
Outcome classify(const cg::ExitStatus& st, uint64_t oom_kill_before, uint64_t oom_kill_after);

}  // namespace ow::stress
