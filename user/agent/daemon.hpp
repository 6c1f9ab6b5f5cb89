// The daemon behind `oomwatch run`: one epoll loop that
//  - streams OOM kills from the BPF ring buffer (JSON lines on stdout),
//  - snapshots every memory cgroup each interval into the history database,
//  - watches the children of the --manage subtrees and, when one is at its
//    limit, moves limit to it from the parent's headroom or idle siblings
//    (policy::plan), applied by actuate::Actuator and audited as JSON lines.
//
// Triggers (issue 5):
//  oom_kill     a BPF OOM-kill event in a managed child (every mode);
//  oom_pending  v1 with --enforce and rescue: the child runs with
//               oom_kill_disable=1, the kernel pauses it at the limit and
//               signals an eventfd; oomwatch raises the limit and the tasks
//               resume. Not given memory within v1_pause_deadline, the cgroup
//               gets its OOM killer back (oom_kill_disable=0);
//  pressure     v2 with --enforce and rescue: memory.high is set as a guard
//               below memory.max, and a new "high" count in memory.events
//               (inotify) means the kernel is throttling; in every mode a
//               child within the guard of its limit whose failcnt/max events
//               grew since the last snapshot.
// Without --enforce nothing is written to any cgroup: no limits, no
// oom_kill_disable, no memory.high; every decision is still audited with
// "dry_run": true.
//
// GOMEMLIMIT hints for the cgroups under --manage (every limited cgroup
// without it) are recomputed every gomemlimit_interval and right after a
// limit change; a donor's hint is lowered before its limit.
//
// Every setting oomwatch changes other than limits (oom_kill_disable,
// memory.high) is remembered in a journal under state_dir before it is
// changed, and put back on exit, at the next start after a crash, and by
// `oomwatch restore`.
#pragma once
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ow::agent {

struct DaemonOptions {
  config::Config cfg;
  std::string state_dir = "/run/oomwatch";  // journal and intent files
  std::string pin_dir = "/sys/fs/bpf/oomwatch";  // "" = do not pin maps
  int64_t window_ns = 600'000'000'000;  // usage window for donors' median and max
  bool hints = true;  // GOMEMLIMIT hints (agent/hints.hpp) every cfg.gomemlimit_interval_ns
};

// Runs until SIGINT/SIGTERM. Errors are setup failures (each says what to fix).
Status run_daemon(const DaemonOptions& o);

// `oomwatch restore`: puts back what a previous run left in state_dir
// (journal and a half-applied plan). Returns the number of settings restored.
Result<int> restore_state(const std::string& state_dir);

}  // namespace ow::agent
