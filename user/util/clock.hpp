// The two clocks the agent reads, in nanoseconds: CLOCK_MONOTONIC for
// intervals and the kernel's BPF timestamps, CLOCK_REALTIME for records.
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

}  // namespace ow
