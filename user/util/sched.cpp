#include "util/sched.hpp"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/names.hpp"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

namespace ow {

namespace {

constexpr int kNice = -10;

pid_t tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

std::string err(const std::string& what) { return std::string(what) + ": " + ::strerror(errno); }

}  // namespace

constexpr Named<LoopPriority> kPriorities[] = {
    {LoopPriority::fifo, "fifo"}, {LoopPriority::nice, "nice"}, {LoopPriority::normal, "normal"}};

std::optional<LoopPriority> parse_loop_priority(std::string_view s) { return parse_name(kPriorities, s); }

std::vector<std::string> loop_priority_names() { return name_vector(kPriorities); }

const char* to_string(LoopPriority p) { return name_of(kPriorities, p, "normal"); }

PriorityResult raise_thread_priority(LoopPriority want) {
  PriorityResult r;
  if (want == LoopPriority::normal) return r;
  if (want == LoopPriority::fifo) {
    sched_param sp{};
    sp.sched_priority = 1;
    if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0) {
      r.got = LoopPriority::fifo;
      return r;
    }
    r.warning = err("SCHED_FIFO refused") + "; using nice " + std::to_string(kNice);
  }
  sched_param sp{};
  // Reset-on-fork first (allowed unprivileged), so the nice value below is
  // not inherited by the threads created after it.
  (void)::sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp);
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(tid()), kNice) == 0) {
    r.got = LoopPriority::nice;
    return r;
  }
  std::string w = err("nice " + std::to_string(kNice) + " refused") + "; the loop runs at normal priority";
  r.warning = r.warning.empty() ? w : r.warning + "; " + w;
  return r;
}

std::string thread_priority_text() {
  int pol = ::sched_getscheduler(0);
  if (pol < 0) return "unknown";
  pol &= ~SCHED_RESET_ON_FORK;
  if (pol == SCHED_FIFO || pol == SCHED_RR) {
    sched_param sp{};
    (void)::sched_getparam(0, &sp);
    return std::string(pol == SCHED_FIFO ? "fifo " : "rr ") + std::to_string(sp.sched_priority);
  }
  errno = 0;
  int n = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid()));
  if (n != 0 && errno == 0) return "nice " + std::to_string(n);
  return "normal";
}

}  // namespace ow
