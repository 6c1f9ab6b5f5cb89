#include "bpf/ring.hpp"

#include <bpf/libbpf.h>

#include <cerrno>

namespace ow::bpf {

Result<std::unique_ptr<RawRing>> RawRing::open(int map_fd, std::string name, Sink sink) {
  std::unique_ptr<RawRing> r(new RawRing());
  r->name_ = std::move(name);
  r->sink_ = std::move(sink);
  r->rb_ = ring_buffer__new(map_fd, &RawRing::on_sample, r.get(), nullptr);
  if (!r->rb_) return sys_error("open " + r->name_ + " ring buffer");
  return r;
}

RawRing::~RawRing() {
  if (rb_) ring_buffer__free(rb_);
}

int RawRing::on_sample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RawRing*>(ctx);
  if (!self->sink_(data, size)) ++self->malformed_;
  return 0;
}

Result<int> RawRing::poll(int timeout_ms) {
  // An event loop that saw the fd readable asks with 0: consume without the
  // extra epoll_wait of ring_buffer__poll.
  int n = timeout_ms == 0 ? ring_buffer__consume(rb_) : ring_buffer__poll(rb_, timeout_ms);
  if (n == -EINTR) return 0;
  if (n < 0) return sys_error("poll " + name_ + " ring buffer", {}, -n);
  return n;
}

int RawRing::epoll_fd() const { return ring_buffer__epoll_fd(rb_); }

}  // namespace ow::bpf
