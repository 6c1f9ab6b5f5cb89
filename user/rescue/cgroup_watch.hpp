// Kernel notifications that a managed cgroup is at its limit, as fds an epoll
// loop can wait on:
//  - v1: an eventfd registered through cgroup.event_control on
//    memory.oom_control; with oom_kill_disable=1 the kernel pauses the
//    cgroup's tasks (under_oom 1) instead of killing, and signals the eventfd.
//  - v2: inotify on memory.events; the kernel modifies it on every
//    high/max/oom event, so a memory.high guard below memory.max gives a
//    throttled (not killed) cgroup and an event.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "util/fd.hpp"

namespace ow::rescue {

class V1OomWatch {
 public:
  // Registers an eventfd for cgroup `rel`. The fd is readable when the cgroup
  // enters OOM.
  static Result<V1OomWatch> open(const cg::Hierarchy& h, const std::string& rel);
  int fd() const { return efd_.get(); }
  // Reads and clears the counter; returns how many OOM notifications arrived.
  uint64_t drain();
  const std::string& cgroup() const { return rel_; }

 private:
  UniqueFd efd_, ctl_;
  std::string rel_;
};

// One inotify instance for many cgroups' memory.events and memory.max files.
class V2EventsWatch {
 public:
  static Result<V2EventsWatch> open();
  Status add(const cg::Hierarchy& h, const std::string& rel);
  void remove(const std::string& rel);
  int fd() const { return ifd_.get(); }
  // Cgroups whose memory.events or memory.max changed since the last call.
  std::vector<std::string> drain();

 private:
  UniqueFd ifd_;
  std::map<int, std::string> wd_to_rel_;
};

}  // namespace ow::rescue
