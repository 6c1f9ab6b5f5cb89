// The clocks the agent reads, in nanoseconds: CLOCK_MONOTONIC for
// intervals and the kernel's BPF timestamps, CLOCK_REALTIME for records,
// CLOCK_PROCESS_CPUTIME_ID for its own CPU (the budget, /metrics).
#pragma once
#include <time.h>

#include <cstdint>

namespace ow {

inline int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

inline int64_t wall_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

// CPU time of the whole process, every thread (user and system), in ns: one
// system call at nanosecond resolution, where /proc/self/stat counts ticks.
inline int64_t process_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

// CPU time of the calling thread (user and system), in ns.
inline int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace ow
