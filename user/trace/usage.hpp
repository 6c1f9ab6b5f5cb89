// What a charge trace measures: bytes charged and uncharged per process and
// memory kind, cumulative since the trace started. Filled from the BPF map
// (tracepoints) or from /proc RSS deltas (proc sampling); pure data.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace ow::trace {

enum class Kind { Anon = 0, File, Shmem, Kernel, Slab };
inline constexpr int kKinds = 5;
// "anon", "file", "shmem", "kernel", "slab"
const char* kind_name(int k);

enum class Method { Tracepoints, ProcSampling };
// "tracepoints", "proc-sampling"
const char* method_name(Method m);

struct KindBytes {
  uint64_t charged = 0;
  uint64_t uncharged = 0;
  int64_t net() const { return static_cast<int64_t>(charged) - static_cast<int64_t>(uncharged); }
};

struct ProcUsage {
  uint32_t tgid = 0;
  std::string comm;  // bytes, as the kernel has them
  std::array<KindBytes, kKinds> kinds{};
  // Net over the kinds that add up to the cgroup's usage: slab is a part of
  // kernel, so it is not added again.
  int64_t net() const;
};

// tgid -> usage since the start
using Totals = std::map<uint32_t, ProcUsage>;

}  // namespace ow::trace
