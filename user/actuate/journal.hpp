// What oomwatch changed on cgroups, on disk, so a crash or SIGKILL never leaves
// a cgroup paused (v1 oom_kill_disable=1) or throttled (v2 memory.high guard).
// Every setting is recorded with its original value BEFORE it is changed (one
// appended line, see journal.cpp for the format);
// restore() puts the originals back and empties the journal. Used on clean
// exit, at start (crash recovery) and by `oomwatch restore`.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include <nlohmann/json.hpp>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow::actuate {

struct Saved {
  std::string file;      // "memory.oom_control" or "memory.high"
  std::string original;  // value to write back ("0", "max", "123456")
  // v1 oom_kill_disable of a managed parent: every cgroup created below it
  // while it reads 1 inherits the 1, so restoring it also puts back 0 in each
  // descendant reading 1, except those in `keep` (they read 1 before
  // oomwatch touched the parent: someone else's setting).
  bool subtree = false;
  std::vector<std::string> keep;
};

class Journal {
 public:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  // Loads what a previous run left (missing file: empty journal).
  Status load();
  // Records the original before the caller changes `file` of cgroup `rel`
  // (only the first original of a setting is kept): one line appended with one
  // write(2). It reaches the page cache, not the disk: it has to outlive the
  // agent (SIGKILL, a crash), and a power cut resets every cgroup anyway.
  Status remember(const std::string& rel, const std::string& file, const std::string& original);
  // The same for a v1 managed parent's memory.oom_control (Saved::subtree).
  Status remember_subtree(const std::string& rel, const std::string& original, std::vector<std::string> keep);
  struct Entry {
    std::string rel, file, original;
  };
  // The same for many settings with one write (arming a thousand children at
  // start is one write, not a thousand).
  Status remember(const std::vector<Entry>& entries);
  // Drops the entries of a cgroup that is gone (one line appended), so that
  // the journal does not grow with churn and a new cgroup of the same name
  // is never written an original that was not its own.
  void forget(const std::string& rel);
  // What restore() wrote back, by kind.
  struct Restored {
    int oom_kill_disable = 0;  // v1 memory.oom_control (a subtree's descendants included)
    int memory_high = 0;       // v2 memory.high guards
    int total() const { return oom_kill_disable + memory_high; }
  };
  // Writes every original back (a subtree entry's descendants after the
  // parent, so that none is created with the 1 meanwhile); drops entries of
  // cgroups that no longer exist. Returns what it restored.
  Result<Restored> restore_by_kind(const cg::Hierarchy& h);
  // The same; the number of settings restored.
  Result<int> restore(const cg::Hierarchy& h);
  // Nothing to restore, and no file left to remove.
  bool empty() const { return entries_.empty() && lines_ == 0; }
  size_t size() const { return entries_.size(); }
  const std::string& path() const { return path_; }
  bool has(const std::string& rel, const std::string& file) const { return entries_.count(rel + "\n" + file) > 0; }

 private:
  void apply(const nlohmann::json& line);
  bool drop(const std::string& rel);
  Status append(const std::vector<nlohmann::json>& lines);
  Status save();  // the live entries alone, atomically
  std::string path_;
  std::map<std::string, Saved> entries_;  // key: rel + "\n" + file
  size_t lines_ = 0;                      // lines in the file (live, forgotten, forget lines)
  UniqueFd fd_;                           // the file, open for appending
};

}  // namespace ow::actuate
