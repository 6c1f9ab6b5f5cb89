// Test helper (bpf and integration tiers): a BPF map created by a process
// inside a given memory cgroup and pinned, so that it outlives its creator,
// as an agent in a container leaves one behind. bpftool when installed (the
// build host), else a forked child calling libbpf (the VM guest has no
// bpftool). The pin is removed when the guard dies.
#pragma once
#include <bpf/bpf.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "cgroup/hierarchy.hpp"
#include "cgroup/scoped.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

namespace owtest {

struct PinGuard {
  std::string path;
  explicit PinGuard(std::string p) : path(std::move(p)) { ::unlink(path.c_str()); }
  ~PinGuard() { ::unlink(path.c_str()); }
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;
};

inline std::string unique_pin(const std::string& tag) {
  static int n = 0;
  return "/sys/fs/bpf/owtest-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// hash, key 4, value 1024, 4096 entries, name "owtestmap" (the map).
// Returns "bpftool" or "fork" (how it was made); FAILs the test otherwise.
inline std::string create_pinned_map_in(const ow::cg::Hierarchy& h, const std::string& rel, const std::string& pin) {
  auto pid = ow::cg::spawn_in(h, rel,
                              {"bpftool", "map", "create", pin, "type", "hash", "key", "4", "value", "1024", "entries",
                               "4096", "name", "owtestmap"});
  if (pid.ok()) {
    auto st = ow::cg::wait_child(*pid);
    if (st.exit_code != 0) FAIL("bpftool map create in " << rel << " exited " << st.exit_code);
    return "bpftool";
  }
  if (pid.error().err != ENOENT) FAIL("spawn bpftool: " << pid.error().message());
  pid_t c = ::fork();
  if (c == 0) {
    int rc = 1;
    if (ow::write_text(h.abs(rel) + "/cgroup.procs", std::to_string(::getpid())).ok()) {
      int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "owtestmap", 4, 1024, 4096, nullptr);
      if (fd >= 0 && bpf_obj_pin(fd, pin.c_str()) == 0) rc = 0;
    }
    ::_exit(rc);
  }
  int status = 0;
  ::waitpid(c, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) FAIL("create a pinned map from inside " << rel);
  return "fork";
}

// fdinfo of the pinned object, read through a fresh fd of ours.
inline std::string pinned_fdinfo(const std::string& pin) {
  int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) FAIL("bpf_obj_get " << pin);
  auto t = ow::read_text("/proc/self/fdinfo/" + std::to_string(fd)).value_or("");
  ::close(fd);
  return t;
}

}  // namespace owtest
