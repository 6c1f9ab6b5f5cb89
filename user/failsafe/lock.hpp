// One agent per node (per state dir): `run` and `restore` hold an exclusive
// flock(2) on <state_dir>/lock while they work. The kernel drops the lock when
// the last holder dies, so a lock left by a dead agent is simply taken over.
// The agent's guardian (failsafe/guardian.hpp) inherits the same lock, so a new
// agent cannot start while a dead one's settings are still being put back.
#pragma once
#include <chrono>
#include <string>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow::failsafe {

class AgentLock {
 public:
  // Waits up to `wait` for the lock (0: one try). Error when someone holds
  // it: "another oomwatch (pid N) holds <path>: ...". Writes our pid into
  // the file for that message.
  static Result<AgentLock> acquire(const std::string& path, std::chrono::milliseconds wait);
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace ow::failsafe
