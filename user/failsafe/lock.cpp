#include "failsafe/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <thread>

#include "util/fs.hpp"

namespace ow::failsafe {

Result<AgentLock> AgentLock::acquire(const std::string& path, std::chrono::milliseconds wait) {
  AgentLock l;
  l.fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode));
  if (!l.fd_.valid()) {
    if (errno == ELOOP) return app_error("refusing to follow a symlink at", path);
    return sys_error("open lock file", path);
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(l.fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return sys_error("lock", path);
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder = "another oomwatch";
      if (auto t = read_text(path); t && !trim(*t).empty()) holder += " (pid " + std::string(trim(*t)) + ")";
      return app_error(holder + " holds " + path +
                       ": an agent is running (or its guardian is still putting a dead agent's settings back)"
                       "; stop it first, or pass another --state-dir");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(l.fd_.get(), 0) == 0) (void)::pwrite(l.fd_.get(), pid.data(), pid.size(), 0);
  return l;
}

}  // namespace ow::failsafe
