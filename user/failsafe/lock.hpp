// One agent per node (per state dir): `run` and `restore` hold an exclusive
// flock(2) on <state_dir>/lock while they work. The kernel drops the lock when
// the last holder dies, so a lock left by a dead agent is simply taken over.
// The agent's guardian (failsafe/guardian.hpp) inherits the same lock, so a new
// agent cannot start while a dead one's settings are still being put back.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow::failsafe {

// The pid holding a flock(2) on the file (dev, ino) in a /proc/locks text,
// or 0 when no line names one (lines of waiters, "->", are not holders).
// Pure.
pid_t flock_holder(std::string_view proc_locks, unsigned dev_major, unsigned dev_minor, uint64_t ino);

class AgentLock {
 public:
  // Waits up to `wait` for the lock (0: one try). Error when someone holds
  // it, naming the holder from /proc/locks (else the pid the lock file
  // holds) and the fix: "pid N (oomwatch) holds <path>: an agent is running
  // ...; stop that agent (kill N), or give this one another --state-dir".
  // Writes our pid into the file, for a reader without /proc/locks.
  static Result<AgentLock> acquire(const std::string& path, std::chrono::milliseconds wait);
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace ow::failsafe
