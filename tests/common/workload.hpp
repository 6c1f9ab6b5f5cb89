// A workload in a cgroup that follows a memory profile: stages of growth to a
// target (in 4 MiB chunks, one per step time), each held for a while or until
// the test releases it, anonymous or shmem (memfd) pages, every page touched.
//
// The child joins the cgroup and execs owalloc (tests/alloc), a small program
// built without sanitizers: what the cgroup is charged is the profile alone,
// not the copy-on-write pages or the ASan shadow of an instrumented test
// binary. Each stage tells the test when its target is reached (reached()),
// so tests wait on the memory being there, not on time. The process is
// killed and reaped by the destructor, on every path.
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "helpers.hpp"

namespace owtest {

// A stage's hold_ms that holds until Workload::release().
constexpr int kUntilReleased = -1;

struct Stage {
  uint64_t target_bytes;  // grow (or shrink) to this
  int step_ms;            // one chunk per step
  int hold_ms;            // then hold this long (kUntilReleased: until release())
};

class Workload {
 public:
  static constexpr uint64_t kChunk = 4ull << 20;
  // procs_file: the cgroup's cgroup.procs; stay: after the last stage, wait
  // for SIGKILL instead of exiting 0. Exit 3: could not join the cgroup;
  // 4: could not map a chunk; 127: owalloc could not be run.
  Workload(const std::string& procs_file, std::vector<Stage> stages, bool shmem = false, bool stay = false) {
    std::vector<std::string> args{alloc_bin()};
    if (shmem) args.push_back("--shmem");
    if (stay) args.push_back("--stay");
    for (const auto& s : stages)
      args.push_back(std::to_string(s.target_bytes) + ":" + std::to_string(s.step_ms) + ":" +
                     (s.hold_ms == kUntilReleased ? std::string("w") : std::to_string(s.hold_ms)));
    int gate[2], note[2];
    if (::pipe2(gate, O_CLOEXEC) != 0) return;
    if (::pipe2(note, O_CLOEXEC) != 0) {
      ::close(gate[0]);
      ::close(gate[1]);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(procs_file.c_str(), O_WRONLY);
      std::string me = std::to_string(::getpid());
      if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) ::_exit(3);
      ::close(fd);
      // stdin: the gate; fd 3: the stage notes (dup2 clears FD_CLOEXEC).
      if (::dup2(gate[0], 0) < 0) ::_exit(127);
      if (note[1] == 3 ? ::fcntl(3, F_SETFD, 0) < 0 : ::dup2(note[1], 3) < 0) ::_exit(127);
      std::vector<char*> a;
      for (auto& s : args) a.push_back(s.data());
      a.push_back(nullptr);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
    ::close(gate[0]);
    ::close(note[1]);
    gate_fd_ = gate[1];
    note_fd_ = note[0];
  }
  ~Workload() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
    if (gate_fd_ >= 0) ::close(gate_fd_);
    if (note_fd_ >= 0) ::close(note_fd_);
  }
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  int pid() const { return pid_; }

  // Waits up to timeout_ms until stage `stage` (0-based) has reached its
  // target; false when the deadline passed or the process ended before.
  bool reached(size_t stage, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (reached_ <= stage) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (note_fd_ < 0 || left.count() < 0) return false;
      pollfd p{note_fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      char c;
      if (::read(note_fd_, &c, 1) != 1) return false;  // ended
      reached_++;
    }
    return true;
  }
  // Ends the hold of the current kUntilReleased stage.
  void release() {
    char c = 'g';
    if (gate_fd_ >= 0 && ::write(gate_fd_, &c, 1) != 1) {
      // the process is gone; reached() and wait() say so
    }
  }

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
  int gate_fd_ = -1, note_fd_ = -1;
  size_t reached_ = 0;
};

}  // namespace owtest
