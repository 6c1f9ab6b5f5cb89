// RAII owners for file descriptors and libbpf objects.
#pragma once
#include <unistd.h>
#include <utility>

struct bpf_link;
extern "C" int bpf_link__destroy(struct bpf_link* link);

namespace ow {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Owns an attached BPF link: destroying it detaches the program.
class Link {
 public:
  Link() = default;
  explicit Link(bpf_link* l) : l_(l) {}
  Link(Link&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  Link& operator=(Link&& o) noexcept {
    if (this != &o) {
      reset();
      l_ = std::exchange(o.l_, nullptr);
    }
    return *this;
  }
  ~Link() { reset(); }
  void reset() {
    if (l_) bpf_link__destroy(l_);
    l_ = nullptr;
  }
  bpf_link* get() const { return l_; }

 private:
  bpf_link* l_ = nullptr;
};

}  // namespace ow
