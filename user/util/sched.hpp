// Scheduling priority of the agent's event loop thread: the thread that
// wakes on a kernel signal and writes the new limit. Under CPU contention a
// normal thread waits its turn behind every runnable task (measured on a
// 2-core node with both cores busy: p99 from the kernel's signal to the limit
// write 10-12 ms at normal priority, 0.6-0.7 ms at SCHED_FIFO 1).
//
//   fifo    SCHED_FIFO priority 1, the lowest real-time priority: it runs
//           before any normal task when it wakes, and behind every other
//           real-time task. The loop sleeps between events and ticks (its
//           work is a few percent of a core at 10,000 cgroups), and the
//           kernel's real-time throttling bounds it in any case.
//   nice    SCHED_OTHER at nice -10: a larger share, not a pre-emption.
//   normal  left as started.
//
// Only the calling thread is raised, with SCHED_RESET_ON_FORK: threads and
// processes it creates afterwards start at normal priority, so the worker
// threads (hints, history, recommendations, /metrics) never compete with it.
// fifo falls back to nice, and nice to normal, when refused (no
// CAP_SYS_NICE, systemd's RestrictRealtime=, a v1 cpu cgroup without
// real-time runtime): a warning, never an error.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ow {

enum class LoopPriority { normal, nice, fifo };

std::optional<LoopPriority> parse_loop_priority(std::string_view s);
std::vector<std::string> loop_priority_names();  // what parse_loop_priority accepts
const char* to_string(LoopPriority p);

struct PriorityResult {
  LoopPriority got = LoopPriority::normal;
  std::string warning;  // why it is less than asked; "" when it is what was asked
};

// Raises the calling thread to want (or the best it is allowed below it).
PriorityResult raise_thread_priority(LoopPriority want);

// The calling thread's priority now, as "fifo 1", "nice -10", "normal".
std::string thread_priority_text();

}  // namespace ow
