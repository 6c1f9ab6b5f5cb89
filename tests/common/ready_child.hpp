// A forked child that joins a cgroup, runs a function there, tells the
// parent through a pipe when it returned (and whether it succeeded), then
// waits to be killed; killed and reaped by the destructor on every path.
// Unlike polling the child's RssAnon (which counts the anon pages it shares
// with the test process since fork), done() says exactly when the work ended.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace owtest {

class ReadyChild {
 public:
  template <typename Fn>
  ReadyChild(const std::string& procs_file, Fn fn) {
    int p[2];
    if (::pipe(p) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      int fd = ::open(procs_file.c_str(), O_WRONLY);
      std::string me = std::to_string(::getpid());
      if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) ::_exit(3);
      ::close(fd);
      char c = fn() ? 'y' : 'n';
      if (::write(p[1], &c, 1) != 1) ::_exit(4);
      for (;;) ::pause();
    }
    ::close(p[1]);
    done_fd_ = p[0];
  }
  ~ReadyChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (done_fd_ >= 0) ::close(done_fd_);
  }
  ReadyChild(const ReadyChild&) = delete;
  ReadyChild& operator=(const ReadyChild&) = delete;

  // Blocks until fn() returned; its result (false also when the fork failed).
  bool done() {
    char c = 0;
    return done_fd_ >= 0 && ::read(done_fd_, &c, 1) == 1 && c == 'y';
  }
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int done_fd_ = -1;
};

// For a ReadyChild: maps `bytes` of private anonymous memory and touches every
// page (kept mapped until the child is killed).
inline bool grow_anon(uint64_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  std::memset(p, 0x5a, bytes);
  return true;
}

}  // namespace owtest
