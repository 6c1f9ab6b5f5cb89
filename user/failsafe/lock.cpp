#include "failsafe/lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <thread>

#include "util/fs.hpp"

namespace ow::failsafe {

namespace {

// The process holding the lock on fd: from /proc/locks, else the pid the
// holder wrote into the file; 0 when neither names one.
pid_t lock_holder(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) == 0)
    if (auto locks = read_text("/proc/locks"))
      if (pid_t p = flock_holder(*locks, major(st.st_dev), minor(st.st_dev), st.st_ino); p > 0) return p;
  uint64_t p = 0;
  if (auto t = read_text(path); t && parse_u64(trim(*t), p) && p > 0 && p < (1u << 22)) return static_cast<pid_t>(p);
  return 0;
}

// "pid N (comm)"; a holder that exited left the lock with a process it started.
std::string describe(pid_t pid) {
  auto comm = read_text("/proc/" + std::to_string(pid) + "/comm");
  return "pid " + std::to_string(pid) +
         (comm ? " (" + std::string(trim(*comm)) + ")" : " (exited; a process it started still holds the lock)");
}

}  // namespace

pid_t flock_holder(std::string_view proc_locks, unsigned dev_major, unsigned dev_minor, uint64_t ino) {
  for (auto line : split_lines(proc_locks)) {
    // "3: FLOCK  ADVISORY  WRITE 7463 fe:00:10994578 0 EOF"; a waiter: "3: -> FLOCK ..."
    auto f = split_ws(line);
    if (f.size() < 6 || f[1] != "FLOCK") continue;
    auto id = split(f[5], ':');
    uint64_t ma = 0, mi = 0, in = 0, pid = 0;
    if (id.size() != 3 || !parse_hex_u64(id[0], ma) || !parse_hex_u64(id[1], mi) || !parse_u64(id[2], in)) continue;
    if (ma == dev_major && mi == dev_minor && in == ino && parse_u64(f[4], pid) && pid > 0)
      return static_cast<pid_t>(pid);
  }
  return 0;
}

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
      const pid_t holder = lock_holder(l.fd_.get(), path);
      return app_error((holder > 0 ? describe(holder) : "another process") + " holds " + path +
                       ": an agent is running (or its guardian is still putting a dead agent's settings back)"
                       "; stop that agent" +
                       (holder > 0 && ::kill(holder, 0) == 0 ? " (kill " + std::to_string(holder) + ")" : "") +
                       ", or give this one another --state-dir");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(l.fd_.get(), 0) == 0) (void)::pwrite(l.fd_.get(), pid.data(), pid.size(), 0);
  return l;
}

}  // namespace ow::failsafe
