// Decoding of ring-buffer records into events userspace can print, and the
// ring-buffer consumer. Decoding is pure (tested on byte buffers).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "bpf/ring.hpp"
#include "oomwatch.h"
#include "util/result.hpp"

namespace ow::bpf {

struct OomKill {
  ow_oom_event raw{};
  std::string comm, trigger_comm;
  std::string cgroup;          // victim's memory cgroup path ("" if unknown)
  std::string trigger_cgroup;  // current task's memory cgroup path
  std::string limit_cgroup;    // the memcg whose limit was hit ("" for a global OOM, or if unknown)
  int64_t wall_ns = 0;         // CLOCK_REALTIME of the kill
};

// Validates size and type of a ring-buffer record: shorter than struct
// ow_oom_event (e.g. from an object older than its limit_* fields) is an
// error; longer is accepted and the tail ignored.
Result<ow_oom_event> decode_oom(const void* data, size_t size);
std::string comm_string(const char (&c)[OW_COMM_LEN]);
// One kill as the `events --json` / agent stdout object, keys in the
// documented order (docs/cli.md "events").
nlohmann::ordered_json to_json(const OomKill& e);
// RFC 3339 UTC with milliseconds, as the event's "ts" and the human line show it.
std::string event_time(int64_t wall_ns);
// Converts a bpf_ktime_get_ns() timestamp into CLOCK_REALTIME nanoseconds.
int64_t mono_to_wall_ns(uint64_t mono_ns);

// The `events` ring buffer (OOM kills).
using RingReader = Ring<ow_oom_event, decode_oom>;


}  // namespace ow::bpf
