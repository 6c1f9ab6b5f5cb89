// A BPF ring buffer (libbpf's ring_buffer) whose records are decoded one by
// one into a typed event. Decoders are pure and tested on byte buffers; a
// record that does not decode is counted (malformed()), never dropped
// silently. One class for every ring of the project: OOM kills, map
// creations, cgroup births.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "util/noncopyable.hpp"
#include "util/result.hpp"

struct ring_buffer;

namespace ow::bpf {

class RawRing : NonCopyable {
 public:
  // sink: false when the record is malformed.
  using Sink = std::function<bool(const void* data, size_t size)>;
  static Result<std::unique_ptr<RawRing>> open(int map_fd, std::string name, Sink sink);
  ~RawRing();
  // Records consumed, waiting up to timeout_ms (EINTR is not an error: 0).
  Result<int> poll(int timeout_ms);
  int epoll_fd() const;
  uint64_t malformed() const { return malformed_; }

 private:
  RawRing() = default;
  static int on_sample(void* ctx, void* data, size_t size);
  ring_buffer* rb_ = nullptr;
  std::string name_;
  Sink sink_;
  uint64_t malformed_ = 0;
};

// A record of fixed layout T whose first __u32 is its type: shorter than T is
// an error (an object older than a field), longer is accepted and the tail
// ignored, another type is an error.
template <class T>
Result<T> decode_fixed(const void* data, size_t size, uint32_t type, const char* what) {
  if (size < sizeof(T)) return app_error(std::string("short ") + what + " record (" + std::to_string(size) + " bytes)");
  T e;
  std::memcpy(&e, data, sizeof e);
  if (e.type != type) return app_error("unknown event type " + std::to_string(e.type));
  return e;
}

template <class T, Result<T> (*Decode)(const void*, size_t)>
class Ring {
 public:
  using Handler = std::function<void(const T&)>;
  static Result<std::unique_ptr<Ring>> open(int map_fd, Handler on_event, std::string name = "BPF") {
    auto raw = RawRing::open(map_fd, std::move(name), [h = std::move(on_event)](const void* d, size_t n) {
      auto e = Decode(d, n);
      if (!e) return false;
      h(*e);
      return true;
    });
    if (!raw) return raw.error();
    std::unique_ptr<Ring> r(new Ring());
    r->raw_ = std::move(*raw);
    return r;
  }
  Result<int> poll(int timeout_ms) { return raw_->poll(timeout_ms); }
  int epoll_fd() const { return raw_->epoll_fd(); }
  uint64_t malformed() const { return raw_->malformed(); }

 private:
  Ring() = default;
  std::unique_ptr<RawRing> raw_;
};

}  // namespace ow::bpf
