// The daemon's one thread: epoll over the ring buffer, timers, signals and the
// cgroup notification fds. Callbacks run on this thread, one at a time, so the
// agent's state needs no locks. An exception escaping a callback is logged
// and the loop goes on: one bad event must not take the agent down.
#pragma once
#include <chrono>
#include <functional>
#include <map>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow {

class Loop {
 public:
  using Callback = std::function<void()>;
  static Result<Loop> create();

  Status add_fd(int fd, Callback cb);
  void remove_fd(int fd);
  // A periodic timer (timerfd, CLOCK_MONOTONIC); returns its fd.
  Result<int> add_timer(std::chrono::nanoseconds period, Callback cb);
  // A one-shot timer, disarmed until arm_timer(fd, after) (again and again).
  Result<int> add_oneshot(Callback cb);
  void arm_timer(int fd, std::chrono::nanoseconds after);
  // SIGINT/SIGTERM end run(); SIGHUP calls on_hup (a closed terminal or a
  // reload request must not stop the agent). They are blocked and read
  // through a signalfd.
  Status handle_signals(Callback on_hup);
  // Runs until stop() or a stop signal.
  Status run();
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

 private:
  UniqueFd ep_;
  std::map<int, Callback> cbs_;
  std::map<int, UniqueFd> owned_;  // timers and the signalfd
  bool stopping_ = false;
};

}  // namespace ow
