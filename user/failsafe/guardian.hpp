// The guardian: a small process, forked by the agent before it changes
// anything on the node, whose only job is to put the node back when the agent
// is gone, however it went (SIGKILL, the OOM killer, a crash, a clean exit).
//
// It holds the read end of a pipe whose write end only the agent has; when
// the agent dies the kernel closes that end, read() returns EOF, and the
// guardian runs restore_node() (failsafe/restore.hpp) from the state files and
// exits. It runs in its own session (a closed terminal's SIGHUP and Ctrl-C's
// SIGINT do not reach it), ignores SIGTERM/SIGINT/SIGHUP/SIGPIPE, has
// oom_score_adj -1000, and keeps the agent's lock (failsafe/lock.hpp) until it
// has finished. Only SIGKILL of the guardian itself (or of the whole service
// cgroup) stops it; `oomwatch restore` (ExecStopPost in the systemd unit)
// covers that case.
#pragma once
#include <sys/types.h>

#include <utility>

#include "failsafe/restore.hpp"
#include "cgroup/hierarchy.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow::failsafe {

class Guardian {
 public:
  // Forks the guardian. keep_fd (the lock) stays open in it; every other fd
  // but stderr is closed there. The caller must still be single-threaded.
  static Result<Guardian> start(const cg::Hierarchy& h, const StatePaths& paths, int keep_fd);
  Guardian(Guardian&& o) noexcept : wr_(std::move(o.wr_)), pid_(std::exchange(o.pid_, -1)) {}
  Guardian& operator=(Guardian&& o) noexcept {
    if (this != &o) {
      stop();
      wr_ = std::move(o.wr_);
      pid_ = std::exchange(o.pid_, -1);
    }
    return *this;
  }
  ~Guardian() { stop(); }

  // Clean exit: closes the pipe (the guardian finds nothing left to restore)
  // and reaps it, waiting at most 2 s.
  void stop();
  pid_t pid() const { return pid_; }

 private:
  Guardian() = default;
  UniqueFd wr_;
  pid_t pid_ = -1;
};

}  // namespace ow::failsafe
