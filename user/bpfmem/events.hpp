// Map creations and program loads from the `bpf_obj_events` ring buffer
// (tp/syscalls/sys_{enter,exit}_bpf, LoaderOptions::bpfmem_events).
// Decoding is pure (tested on byte buffers); records are dispatched on their
// first __u32, so records of other types are counted, never misread.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "oomwatch.h"
#include "util/result.hpp"

struct ring_buffer;

namespace ow::bpfmem {

Result<ow_bpf_obj_event> decode_obj_event(const void* data, size_t size);
// {"type":"bpf_map_create"|"bpf_prog_load", "pid", "comm", "id", "fd"|"error", ...}
nlohmann::json to_json(const ow_bpf_obj_event& e, const std::string& cgroup);

class ObjEventReader {
 public:
  using Handler = std::function<void(const ow_bpf_obj_event&)>;
  static Result<std::unique_ptr<ObjEventReader>> open(int map_fd, Handler on_event);
  ~ObjEventReader();
  ObjEventReader(const ObjEventReader&) = delete;
  ObjEventReader& operator=(const ObjEventReader&) = delete;
  Result<int> poll(int timeout_ms);  // records consumed (EINTR: 0)
  int epoll_fd() const;
  uint64_t unknown() const { return unknown_; }

 private:
  ObjEventReader() = default;
  static int on_sample(void* ctx, void* data, size_t size);
  ring_buffer* rb_ = nullptr;
  Handler handler_;
  uint64_t unknown_ = 0;
};

}  // namespace ow::bpfmem
