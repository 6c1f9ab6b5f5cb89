#include "failsafe/guardian.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "util/fs.hpp"
#include "util/log.hpp"

namespace ow::failsafe {
namespace {

void close_all_but(std::initializer_list<int> keep) {
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d)) {
      uint64_t fd;
      if (parse_u64(e->d_name, fd)) fds.push_back(static_cast<int>(fd));
    }
    ::closedir(d);
  }
  for (int fd : fds) {
    bool k = fd <= 2;
    for (int x : keep) k = k || fd == x;
    if (!k) ::close(fd);  // includes the DIR's own fd, already closed: EBADF is harmless
  }
}

[[noreturn]] void guardian_main(int rd, int keep_fd, const cg::Hierarchy& h, const StatePaths& paths) {
  ::setsid();
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2}) ::signal(sig, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  (void)write_text("/proc/self/oom_score_adj", "-1000");
  ::prctl(PR_SET_NAME, "oomwatch-guard", 0, 0, 0);
  // stdout may be a pipe someone reads to its end (`oomwatch run | jq`):
  // the guardian must not keep it open after the agent is gone.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
  }
  close_all_but({rd, keep_fd});
  char c;
  for (;;) {
    ssize_t n = ::read(rd, &c, 1);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    break;  // EOF: the agent is gone
  }
  RestoreReport r;
  try {
    r = restore_node(h, paths);
  } catch (const std::exception& e) {
    r.problems.push_back(std::string("internal error: ") + e.what());
  }
  if (r.total() > 0)
    spdlog::warn("guardian: the agent exited without putting the node back; restored {} setting(s), {} limit(s), "
                 "{} GOMEMLIMIT hint(s), {} pin(s)",
                 r.settings, r.limits, r.hints, r.pins);
  for (const auto& p : r.problems) spdlog::error("guardian: {}; run 'oomwatch restore'", p);
  std::fflush(nullptr);
  ::_exit(r.problems.empty() ? 0 : 1);
}

}  // namespace

Result<Guardian> Guardian::start(const cg::Hierarchy& h, const StatePaths& paths, int keep_fd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe for the guardian");
  std::fflush(nullptr);  // nothing buffered may be written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    auto e = sys_error("fork the guardian");
    ::close(p[0]);
    ::close(p[1]);
    return e;
  }
  if (pid == 0) {
    ::close(p[1]);
    guardian_main(p[0], keep_fd, h, paths);
  }
  ::close(p[0]);
  Guardian g;
  g.wr_.reset(p[1]);
  g.pid_ = pid;
  return g;
}

void Guardian::stop() {
  if (pid_ <= 0) return;
  wr_.reset();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("guardian (pid {}) still busy after 2s; leaving it to finish", pid_);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

}  // namespace ow::failsafe
