#include "cgroup/scoped.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace ow::cg {

Result<ScopedCgroup> ScopedCgroup::create(const Hierarchy& h, const std::string& parent, const std::string& prefix,
                                          uint64_t limit_bytes) {
  static std::atomic<int> seq{0};
  std::string rel = join_rel(parent, prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq++));
  auto s = h.create(rel);
  if (!s) return s.error();
  ScopedCgroup c(h, rel);
  if (limit_bytes != kUnlimited) {
    auto l = h.set_limit(rel, limit_bytes);
    if (!l) return l.error();  // c's destructor removes the directory
    // No swap: a limit test must OOM, not page out (v2 has a separate knob).
    if (h.version() == Version::V2) (void)write_text(h.abs(rel) + "/memory.swap.max", "0");
  }
  return c;
}

ScopedCgroup::ScopedCgroup(ScopedCgroup&& o) noexcept : h_(o.h_), rel_(std::move(o.rel_)) { o.rel_.clear(); }

Status ScopedCgroup::remove() {
  if (rel_.empty()) return {};
  auto s = h_.remove(rel_);
  if (s) rel_.clear();
  return s;
}

ScopedCgroup::~ScopedCgroup() {
  if (rel_.empty()) return;
  auto s = h_.remove(rel_);
  if (!s) spdlog::error("could not remove cgroup {}: {}", h_.abs(rel_), s.error().message());
}

Result<pid_t> spawn_in(const Hierarchy& h, const std::string& rel, const std::vector<std::string>& argv) {
  if (argv.empty()) return app_error("no command to run");
  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) != 0) return sys_error("pipe");
  std::string procs = h.abs(rel) + "/cgroup.procs";
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    ::close(pfd[0]);
    // Default signal dispositions for the command, whatever ours are.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    char buf[32];
    int n = std::snprintf(buf, sizeof buf, "%d", ::getpid());
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    int err = 0;
    if (fd < 0 || ::write(fd, buf, static_cast<size_t>(n)) != n) err = errno;
    if (!err) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      err = -errno;  // negative: exec failed (positive: cgroup move failed)
    }
    (void)!::write(pfd[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(pfd[1]);
  int err = 0;
  ssize_t n;
  do n = ::read(pfd[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  ::close(pfd[0]);
  if (n == sizeof err) {
    ::waitpid(pid, nullptr, 0);
    if (err > 0) return sys_error("move command into", procs, err);
    return sys_error("run " + argv[0], {}, -err);
  }
  return pid;
}

ExitStatus wait_child(pid_t pid, const std::atomic<bool>* stop) {
  int status = 0;
  bool forwarded = false;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return {127, false, 0};
    if (stop && stop->load() && !forwarded) {
      ::kill(pid, SIGTERM);
      forwarded = true;
    }
  }
  if (WIFSIGNALED(status)) return {128 + WTERMSIG(status), true, WTERMSIG(status)};
  return {WEXITSTATUS(status), false, 0};
}

}  // namespace ow::cg
