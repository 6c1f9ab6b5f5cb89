// The memory-controller hierarchy (v1 or v2) behind one interface.
// Paths given to methods are relative to the hierarchy root ("/", "/a/b");
// resolve() also accepts absolute cgroupfs paths from users.
// Not thread-safe; cheap to copy (holds only paths).
#pragma once
#include <dirent.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cgroup/parse.hpp"
#include "util/result.hpp"

namespace ow::cg {

// Event counters, v1 and v2 mapped onto v2 names. v1 has no low/high/oom
// counters: "max" is v1's failcnt, oom_kill comes from memory.oom_control.
struct MemEvents {
  uint64_t low = 0, high = 0, max = 0, oom = 0, oom_kill = 0, oom_group_kill = 0;
  bool under_oom = false;         // v1 only: tasks paused at the limit
  bool oom_kill_disable = false;  // v1 only
};

struct MemUsage {
  uint64_t usage_bytes = 0;
  uint64_t limit_bytes = 0;  // kUnlimited when none
  uint64_t peak_bytes = 0;   // 0 when the kernel keeps no watermark (v2 < 5.19)
  uint64_t high_bytes = 0;   // v2 memory.high; kUnlimited on v1
  MemEvents events;
};

class Hierarchy {
 public:
  Hierarchy(std::string mount, Version v, std::string self_path = "/");
  // Reads /proc/self/mounts and /proc/self/cgroup (under proc_root).
  static Result<Hierarchy> discover(const std::string& proc_root = "/proc");

  Version version() const { return v_; }
  const std::string& mount() const { return mount_; }
  const std::string& self() const { return self_; }  // this process's cgroup
  std::string abs(const std::string& rel) const;
  // User input -> relative path of an existing cgroup ("unknown cgroup" error otherwise).
  Result<std::string> resolve(const std::string& user_path) const;
  // resolve() without the existence check, for paths of cgroups that may be
  // created later (config [[cgroup]] entries): the mount prefix stripped,
  // repeated and trailing slashes dropped, ".." refused.
  Result<std::string> normalize(const std::string& user_path) const;

  Result<uint64_t> id_of(const std::string& rel) const;  // inode of the directory
  Result<std::string> path_of(uint64_t id) const;          // walks the tree
  std::map<uint64_t, std::string> walk() const { return walk("/"); }  // every cgroup: id -> rel
  std::map<uint64_t, std::string> walk(const std::string& from) const;  // `from` and its descendants

  Result<MemUsage> read(const std::string& rel) const;
  Result<uint64_t> usage(const std::string& rel) const;
  Result<uint64_t> limit(const std::string& rel) const;
  // v2 memory.high (kUnlimited for "max"); an error on v1 or when unreadable
  // (read() instead reports an unreadable memory.high as kUnlimited).
  Result<uint64_t> high(const std::string& rel) const;
  Result<MemEvents> events(const std::string& rel) const;
  Result<std::map<std::string, uint64_t>> stat(const std::string& rel) const;

  Status set_limit(const std::string& rel, uint64_t bytes) const;
  Status set_high(const std::string& rel, uint64_t bytes) const;  // v2 only
  Status set_oom_kill_disable(const std::string& rel, bool disable) const;  // v1 only

  // mkdir; on v2 first enables +memory in the parent's subtree_control.
  Status create(const std::string& rel) const;
  // Kills every task inside (and in descendants), waits for them, rmdirs bottom-up.
  Status remove(const std::string& rel) const;
  Status move_pid(const std::string& rel, pid_t pid) const;
  Result<std::vector<pid_t>> procs(const std::string& rel) const;

  // File names for this version (for event_control, inotify, tests).
  std::string usage_file() const { return v_ == Version::V1 ? "memory.usage_in_bytes" : "memory.current"; }
  std::string limit_file() const { return v_ == Version::V1 ? "memory.limit_in_bytes" : "memory.max"; }

 private:
  std::string mount_;
  Version v_;
  std::string self_;
};

std::string join_rel(const std::string& parent, const std::string& child);
// rel is root or below it (relative paths; "/" holds everything).
bool is_under(const std::string& rel, const std::string& root);

// A child directory of a cgroup directory: a child cgroup.
struct ChildDir {
  std::string name;
  uint64_t id = 0;  // the inode number (readdir's d_ino): the id Hierarchy::id_of() stats for
};
// The child directories of the open directory d, sorted by name, dot entries
// left out; d is read to its end. Directories by readdir's d_type, and by
// fstatat (no symlinks) where the file system gives none (DT_UNKNOWN).
std::vector<ChildDir> child_dirs(DIR* d);
// The same for the directory at an absolute path; empty when it cannot be
// opened (removed meanwhile).
std::vector<ChildDir> child_dirs(const std::string& abs_path);

}  // namespace ow::cg
