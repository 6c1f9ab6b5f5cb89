// One thread of the agent beside its event loop: started under a name,
// woken, stopped and joined, with the lock and the wait that the state it
// shares with its owner needs. The loop thread raises only itself, with
// SCHED_RESET_ON_FORK (util/sched.hpp), so a thread started here begins at
// normal priority whatever the loop's: there is nothing to reset.
//
// The owner keeps what its thread shares under lock(), and the thread sleeps
// in wait(), wait_for() or wait_until(), which also return once stop() is
// called and say so. The body returns when a wait says stop.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "util/noncopyable.hpp"

namespace ow {

class Worker : NonCopyable {
 public:
  Worker() = default;
  ~Worker();  // stop()

  // Runs body on a new thread named `name` (at most 15 bytes: top -H,
  // /proc/PID/task/*/comm), named before start() returns.
  void start(const char* name, std::function<void()> body);
  // Tells the thread to stop, wakes it and joins it. Does nothing the second
  // time, or when the thread was never started.
  void stop();
  // Wakes a wait of the thread to look at its condition again (call it after
  // changing the state under lock(), with or without the lock).
  void wake() { cv_.notify_all(); }

  std::unique_lock<std::mutex> lock() const { return std::unique_lock<std::mutex>(mu_); }

  // Under lk (from lock()): sleeps until ready() holds or stop() was called.
  // Returns whether stop() was called.
  template <class Ready>
  bool wait(std::unique_lock<std::mutex>& lk, Ready ready) {
    cv_.wait(lk, [&] { return stopping_ || ready(); });
    return stopping_;
  }
  // The same, or until `timeout` has passed.
  template <class Rep, class Period, class Ready>
  bool wait_for(std::unique_lock<std::mutex>& lk, std::chrono::duration<Rep, Period> timeout, Ready ready) {
    cv_.wait_for(lk, timeout, [&] { return stopping_ || ready(); });
    return stopping_;
  }
  // The same, or until `deadline`.
  template <class Clock, class Duration, class Ready>
  bool wait_until(std::unique_lock<std::mutex>& lk, std::chrono::time_point<Clock, Duration> deadline, Ready ready) {
    cv_.wait_until(lk, deadline, [&] { return stopping_ || ready(); });
    return stopping_;
  }
  // A ready() for waits that only end on a timeout or stop().
  static bool never() { return false; }

  // A body for a thread that works in rounds: round() every period until
  // stop(), the first one a period after start. An exception from round() is
  // logged as "<what>: internal error: ..." and the rounds go on.
  void every(std::chrono::nanoseconds period, const char* what, const std::function<void()>& round);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread th_;
};

}  // namespace ow
