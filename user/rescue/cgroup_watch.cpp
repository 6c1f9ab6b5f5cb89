#include "rescue/cgroup_watch.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <set>

#include "util/fs.hpp"

namespace ow::rescue {

Result<V1OomWatch> V1OomWatch::open(const cg::Hierarchy& h, const std::string& rel) {
  V1OomWatch w;
  w.rel_ = rel;
  w.efd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w.efd_.valid()) return sys_error("eventfd");
  std::string oc = h.abs(rel) + "/memory.oom_control";
  w.ctl_ = UniqueFd(::open(oc.c_str(), O_RDONLY | O_CLOEXEC));
  if (!w.ctl_.valid()) return sys_error("open", oc);
  auto s = write_text(h.abs(rel) + "/cgroup.event_control",
                      std::to_string(w.efd_.get()) + " " + std::to_string(w.ctl_.get()));
  if (!s) return s.error();
  return w;
}

uint64_t V1OomWatch::drain() {
  uint64_t v = 0;
  if (::read(efd_.get(), &v, sizeof v) != sizeof v) return 0;
  return v;
}

Result<V2EventsWatch> V2EventsWatch::open() {
  V2EventsWatch w;
  w.ifd_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w.ifd_.valid()) return sys_error("inotify_init1");
  return w;
}

Status V2EventsWatch::add(const cg::Hierarchy& h, const std::string& rel) {
  // memory.max too: a write to it is an IN_MODIFY like any write (vfs_write),
  // so a container runtime setting the limit just after mkdir is seen at once.
  for (const char* name : {"memory.events", "memory.max"}) {
    std::string f = h.abs(rel) + "/" + name;
    int wd = ::inotify_add_watch(ifd_.get(), f.c_str(), IN_MODIFY);
    if (wd < 0) return sys_error("watch", f);
    wd_to_rel_[wd] = rel;
  }
  return {};
}

void V2EventsWatch::remove(const std::string& rel) {
  for (auto it = wd_to_rel_.begin(); it != wd_to_rel_.end();)
    if (it->second == rel) {
      ::inotify_rm_watch(ifd_.get(), it->first);
      it = wd_to_rel_.erase(it);
    } else {
      ++it;
    }
}

std::vector<std::string> V2EventsWatch::drain() {
  std::set<std::string> changed;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = ::read(ifd_.get(), buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      auto it = wd_to_rel_.find(ev->wd);
      if (it != wd_to_rel_.end()) changed.insert(it->second);
      p += sizeof(inotify_event) + ev->len;
    }
  }
  return {changed.begin(), changed.end()};
}

}  // namespace ow::rescue
