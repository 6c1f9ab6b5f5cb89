// A forked process that joins a cgroup and follows a memory profile: stages
// of growth to a target (in chunks, one per step time), each held for a
// while, anonymous or shmem (memfd) pages, every page touched. The tests of
// the rescue path use it to grow past a limit at a known rate. The process
// is killed and reaped by the destructor, on every path.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace owtest {

struct Stage {
  uint64_t target_bytes;  // grow (or shrink) to this
  int step_ms;            // one chunk per step
  int hold_ms;            // then hold this long
};

class Workload {
 public:
  static constexpr uint64_t kChunk = 4ull << 20;
  // procs_file: the cgroup's cgroup.procs; stay: after the last stage, wait
  // for SIGKILL instead of exiting 0.
  Workload(const std::string& procs_file, std::vector<Stage> stages, bool shmem = false, bool stay = false) {
    pid_ = ::fork();
    if (pid_ != 0) return;
    int fd = ::open(procs_file.c_str(), O_WRONLY);
    std::string me = std::to_string(::getpid());
    if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) ::_exit(3);
    ::close(fd);
    std::vector<void*> chunks;
    chunks.reserve(1024);
    for (const auto& s : stages) {
      while (chunks.size() * kChunk < s.target_bytes) {
        void* p = MAP_FAILED;
        if (shmem) {
          int m = ::memfd_create("owtest", 0);
          if (m >= 0 && ::ftruncate(m, kChunk) == 0)
            p = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
          if (m >= 0) ::close(m);  // the mapping keeps the pages
        } else {
          p = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        }
        if (p == MAP_FAILED) ::_exit(4);
        std::memset(p, 0x5a, kChunk);
        chunks.push_back(p);
        if (s.step_ms) ::usleep(s.step_ms * 1000);
      }
      while (chunks.size() * kChunk > s.target_bytes + kChunk - 1 && !chunks.empty()) {
        ::munmap(chunks.back(), kChunk);
        chunks.pop_back();
      }
      ::usleep(s.hold_ms * 1000);
    }
    if (stay)
      for (;;) ::pause();
    ::_exit(0);
  }
  ~Workload() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  int pid() const { return pid_; }
  // Waits up to timeout_ms; true when it ended (status() then valid).
  bool wait(int timeout_ms) {
    for (int waited = 0; !done_; waited += 20) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        done_ = true;
        break;
      }
      if (waited >= timeout_ms) return false;
      ::usleep(20'000);
    }
    return true;
  }
  bool running() { return !done_ && !wait(0); }
  bool exited_ok() const { return done_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }
  bool killed() const { return done_ && WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL; }
  int status() const { return status_; }

 private:
  int pid_ = -1;
  int status_ = 0;
  bool done_ = false;
};

}  // namespace owtest
