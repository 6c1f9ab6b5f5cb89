// The daemon behind `oomwatch run`: one epoll loop that
//  - streams OOM kills from the BPF ring buffer (JSON lines on stdout),
//  - snapshots every memory cgroup each interval into the history database,
//  - watches the children of the --manage subtrees and, when one is at its
//    limit, moves limit to it from the parent's headroom or idle siblings
//    (policy::plan), applied by actuate::Actuator and audited as JSON lines.
//
// Triggers:
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
// GOMEMLIMIT hints (only with DaemonOptions::hints, `--hints` or
// `hints = true`) for the cgroups under --manage (every limited cgroup
// without it) are recomputed every gomemlimit_interval and right after a
// limit change, on a thread of their own (hintsvc/runner.hpp) so that no
// hint work sits on the rescue path.
//
// Every setting oomwatch changes other than limits (oom_kill_disable,
// memory.high) is remembered in a journal under state_dir before it is
// changed, and put back on exit, at the next start after a crash, by the
// guardian when the agent dies (failsafe/guardian.hpp), and by `oomwatch
// restore`. One agent per state dir (failsafe/lock.hpp). Ready (attached, first
// snapshot taken) is announced by agent/notify.hpp.
#pragma once
#include <cstdint>
#include <string>

#include "failsafe/restore.hpp"
#include "config/config.hpp"
#include "util/result.hpp"

namespace ow::agent {

struct DaemonOptions {
  config::Config cfg;
  std::string state_dir = kDefaultStateDir;  // journal and intent files
  std::string pin_dir = bpf::kDefaultPinDir;  // "" = do not pin maps
  int64_t window_ns = 600'000'000'000;  // usage window for donors' median and max
  bool hints = false;  // publish GOMEMLIMIT hints (hintsvc/service.hpp); observe-only publishes nothing
  int64_t lock_wait_ms = 3000;  // a dead agent's guardian may still hold the lock this long
};

// Runs until SIGINT/SIGTERM (SIGHUP is logged and ignored). Errors are setup
// failures and, after everything was put back, any internal error. The
// start-up checks made before any BPF program is loaded (the state dir's
// lock, the /metrics port, the pin dir) refuse with one line naming their own
// fix, and set *fix_named.
Status run_daemon(const DaemonOptions& o, bool* fix_named = nullptr);

// `oomwatch restore`: takes the state dir's lock (waiting up to wait_ms; an
// error while an agent runs) and puts back what a previous run left
// (failsafe/restore.hpp). audit_log "" = recovery is not audited.
Result<failsafe::RestoreReport> restore_state(const failsafe::StatePaths& paths, int64_t wait_ms);

}  // namespace ow::agent
