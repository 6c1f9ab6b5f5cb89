// The clocks the agent reads, in nanoseconds: CLOCK_MONOTONIC for
// intervals and the kernel's BPF timestamps, CLOCK_REALTIME for records,
// CLOCK_PROCESS_CPUTIME_ID for its own CPU (the budget, /metrics).
#pragma once
#include <time.h>

#include <cstdint>

namespace ow {

// One clock's reading in nanoseconds.
inline int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

inline int64_t mono_ns() { return clock_ns(CLOCK_MONOTONIC); }

inline int64_t wall_ns() { return clock_ns(CLOCK_REALTIME); }

// CPU time of the whole process, every thread (user and system), in ns: one
// system call at nanosecond resolution, where /proc/self/stat counts ticks.
inline int64_t process_cpu_ns() { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

// CPU time of the calling thread (user and system), in ns.
inline int64_t thread_cpu_ns() { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

}  // namespace ow
