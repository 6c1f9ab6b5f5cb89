// Live OOM kills: the loaded BPF hooks plus the ring-buffer reader, with
// cgroup ids resolved to paths. Used by `oomwatch events` and the daemon.
#pragma once
#include <functional>
#include <memory>

#include "bpf/events.hpp"
#include "bpf/loader.hpp"
#include "cgroup/idcache.hpp"

namespace ow::agent {

class OomSource {
 public:
  using Handler = std::function<void(const bpf::OomKill&)>;
  // Loads its own BPF programs (OOM hooks only).
  static Result<std::unique_ptr<OomSource>> open(cg::Hierarchy h, Handler on_kill);
  // Reads the ring buffer of a loader someone else owns (the daemon's).
  static Result<std::unique_ptr<OomSource>> attach(const bpf::Loader& loader, cg::Hierarchy h, Handler on_kill);

  // Waits up to timeout_ms for events and delivers them.
  Status poll(int timeout_ms);
  int epoll_fd() const { return reader_->epoll_fd(); }
  // Events the kernel could not queue (ring buffer full) since start.
  uint64_t drops() const { return loader_->stat(OW_STAT_RB_DROPS); }
  uint64_t malformed() const { return reader_->malformed(); }
  const bpf::Loader& loader() const { return *loader_; }
  cg::IdCache& ids() { return ids_; }

 private:
  OomSource(cg::Hierarchy h) : ids_(std::move(h)) {}
  void deliver(const ow_oom_event& e);
  std::unique_ptr<bpf::Loader> owned_;
  const bpf::Loader* loader_ = nullptr;
  std::unique_ptr<bpf::RingReader> reader_;
  cg::IdCache ids_;
  Handler on_kill_;
};

}  // namespace ow::agent
