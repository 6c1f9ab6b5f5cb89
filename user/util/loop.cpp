#include "util/loop.hpp"

#include <algorithm>

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/log.hpp"

namespace ow {

Result<Loop> Loop::create() {
  Loop l;
  l.ep_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!l.ep_.valid()) return sys_error("epoll_create1");
  return l;
}

Status Loop::add_fd(int fd, Callback cb) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl add");
  cbs_[fd] = std::move(cb);
  return {};
}

void Loop::remove_fd(int fd) {
  ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
  cbs_.erase(fd);
  owned_.erase(fd);
}

Result<int> Loop::add_timer(std::chrono::nanoseconds period, Callback cb) {
  auto fd = add_oneshot(std::move(cb));
  if (!fd) return fd;
  itimerspec its{};
  its.it_interval.tv_sec = period.count() / 1000000000;
  its.it_interval.tv_nsec = period.count() % 1000000000;
  its.it_value = its.it_interval;
  if (::timerfd_settime(*fd, 0, &its, nullptr) != 0) {
    auto e = sys_error("timerfd_settime");
    remove_fd(*fd);
    return e;
  }
  return fd;
}

Result<int> Loop::add_oneshot(Callback cb) {
  UniqueFd t(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!t.valid()) return sys_error("timerfd_create");
  int fd = t.get();
  auto s = add_fd(fd, [fd, cb = std::move(cb)] {
    uint64_t n;
    if (::read(fd, &n, sizeof n) == sizeof n) cb();
  });
  if (!s) return s.error();
  owned_[fd] = std::move(t);
  return fd;
}

void Loop::arm_timer(int fd, std::chrono::nanoseconds after) {
  if (fd < 0) return;
  itimerspec its{};
  its.it_value.tv_sec = after.count() / 1000000000;
  its.it_value.tv_nsec = std::max<long>(1, static_cast<long>(after.count() % 1000000000));
  (void)::timerfd_settime(fd, 0, &its, nullptr);
}

Status Loop::handle_signals(Callback on_hup) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return sys_error("sigprocmask");
  UniqueFd s(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!s.valid()) return sys_error("signalfd");
  int fd = s.get();
  auto st = add_fd(fd, [this, fd, on_hup = std::move(on_hup)] {
    signalfd_siginfo si;
    while (::read(fd, &si, sizeof si) == sizeof si) {
      if (si.ssi_signo == SIGHUP) {
        if (on_hup) on_hup();
      } else {
        stopping_ = true;
      }
    }
  });
  if (!st) return st;
  owned_[fd] = std::move(s);
  return {};
}

Status Loop::run() {
  epoll_event evs[32];
  while (!stopping_) {
    int n = ::epoll_wait(ep_.get(), evs, 32, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("epoll_wait");
    }
    for (int i = 0; i < n && !stopping_; ++i) {
      auto it = cbs_.find(evs[i].data.fd);
      if (it == cbs_.end()) continue;
      auto cb = it->second;  // a callback may remove its own fd
      try {
        cb();
      } catch (const std::exception& e) {
        spdlog::error("internal error in an event handler (the agent goes on): {}", e.what());
      }
    }
  }
  return {};
}

}  // namespace ow
