// Decoding of ring-buffer records into events userspace can print, and the
// ring-buffer consumer. Decoding is pure (tested on byte buffers).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "oomwatch.h"
#include "util/result.hpp"

struct ring_buffer;

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
nlohmann::json to_json(const OomKill& e);
// Converts a bpf_ktime_get_ns() timestamp into CLOCK_REALTIME nanoseconds.
int64_t mono_to_wall_ns(uint64_t mono_ns);

// Polls the `events` ring buffer and hands each valid record to `on_event`;
// malformed records are counted, never dropped silently.
class RingReader {
 public:
  using Handler = std::function<void(const ow_oom_event&)>;
  static Result<std::unique_ptr<RingReader>> open(int map_fd, Handler on_event);
  ~RingReader();
  // Returns records consumed, or an error (EINTR is not an error: 0).
  Result<int> poll(int timeout_ms);
  int epoll_fd() const;
  uint64_t malformed() const { return malformed_; }

 private:
  RingReader() = default;
  static int on_sample(void* ctx, void* data, size_t size);
  ring_buffer* rb_ = nullptr;
  Handler handler_;
  uint64_t malformed_ = 0;
};

}  // namespace ow::bpf
