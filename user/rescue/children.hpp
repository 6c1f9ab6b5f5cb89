// The managed children: the direct children of each --manage subtree, found
// (the kernel's word of a birth, and the walk each snapshot), armed (v1
// oom_kill_disable, inherited from the managed parent at birth; v2 a
// memory.high guard following memory.max), and the managed parents' own
// pauses at their limits handed back to the kernel's OOM killer.
//
// Every setting written here is journalled first (actuate/journal.hpp) and
// put back by the daemon's shutdown, the guardian or `oomwatch restore`. It
// runs on the event loop's thread only. What an incident decides (plans,
// limits, audit) is not here: the room tells its owner through Hooks.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actuate/journal.hpp"
#include "rescue/birth_watch.hpp"
#include "rescue/cgroup_watch.hpp"
#include "util/loop.hpp"
#include "cgroup/hierarchy.hpp"
#include "sampler/sample.hpp"
#include "util/noncopyable.hpp"
#include "util/units.hpp"

namespace ow::rescue {

// Direct child cgroups of rel (relative paths), sorted, each with its
// cgroup id: the d_ino readdir reports, the inode number a stat would give
// (cgroup/hierarchy.cpp), so listing a thousand children costs one getdents.
std::vector<std::pair<std::string, uint64_t>> children(const cg::Hierarchy& h, const std::string& rel);

// A managed child: a direct child of a --manage subtree.
struct Child {
  std::string path, root;
  uint64_t id = 0;                // cgroup id (inode): a cgroup recreated under the same name is a new child
  std::optional<V1OomWatch> v1;   // v1, enforce + rescue
  bool paused = false;            // v1: under_oom seen, tasks waiting for memory
  int64_t paused_since_ns = 0;
  bool released = false;          // v1: OOM killer given back after the deadline
  uint64_t guard_bytes = 0;       // v2: memory.high oomwatch set (0: none)
  int64_t born_ns = 0;            // CLOCK_MONOTONIC of its mkdir, until it is armed (births only)
  bool seen = false;              // last_* are valid
  uint64_t last_usage = 0, last_failcnt = 0, last_high_events = 0;
  uint64_t last_limit = kUnlimited;  // from the last snapshot, or the last plan oomwatch applied
  // The current incident (rescue/incidents.hpp): triggers with no more than
  // kIncidentGapNs between them. A kill record says what oomwatch tried in it.
  struct {
    int64_t first_signal_ns = 0, last_ns = 0;
    uint32_t triggers = 0, grants = 0;
    uint64_t granted_bytes = 0;
    uint32_t would_grants = 0;  // observe-only: plans that would have given memory
    uint64_t would_grant_bytes = 0;
    std::string last_refusal;  // "outcome: reason" of the last trigger that got nothing
  } inc;
};

// A --manage root. v1: armed (oom_kill_disable 1) so that its new children
// are born armed; its own pause at its limit is handed back at once.
struct ManagedRoot {
  std::string path;
  uint64_t id = 0;
  std::optional<V1OomWatch> v1;  // its own pause (v1, armed)
  bool armed = false;            // v1: oomwatch wrote its 1
  bool released = false;         // v1: given back to the OOM killer at its own limit, until no longer under_oom
  std::set<std::string> keep;    // v1: descendants reading 1 before oomwatch armed it (someone else's)
};

class ManagedChildren : NonCopyable {
 public:
  struct Settings {
    bool arm = false;                // enforce and rescue: write oom_kill_disable / memory.high
    int64_t v1_pause_deadline_ns = 0;  // for the log line of an armed child
    int64_t interval_ns = 0;         // the walk's period, for the log line without births
  };
  // What the rest of the agent hears; each runs on the loop's thread.
  struct Hooks {
    std::function<void(const std::string& path)> paused;           // v1: a child's OOM eventfd fired
    std::function<void(const std::vector<std::string>&)> v2_events;  // v2: memory.events/max changed
    // v1: a managed parent at its own limit was given its OOM killer back
    // (released_us: how long the write took).
    std::function<void(const std::string& path, int64_t released_us)> root_released;
    std::function<void(const std::string& path)> dropped;          // a child is gone
  };

  ManagedChildren(const cg::Hierarchy& h, actuate::Journal& journal, Loop& loop, std::vector<std::string> roots,
                  Settings s, Hooks hooks);

  // With arming on: the v2 memory.events watch, the births hook when the
  // loader has it attached, and the managed parents armed (v1).
  Status watch(const bpf::Loader& loader);
  // The walk: gone children dropped, new ones added and armed; v1
  // descendants that inherited a 1 when births were missed get 0 back.
  void refresh();

  const std::vector<std::string>& roots() const { return roots_; }
  std::map<std::string, Child>& all() { return kids_; }
  bool empty() const { return kids_.empty(); }
  Child* find(const std::string& path);
  // Drops the child at path when its cgroup is gone (or another cgroup has
  // its name) without waiting for the next snapshot: v1 signals a child's
  // OOM eventfd as its cgroup is removed. True when it was dropped.
  bool drop_if_gone(const std::string& path);
  // The managed child cgroup is in (itself or below it), or nullptr.
  Child* owner_of(const std::string& cgroup);

  // A child's figures from a snapshot: the v1 pause re-armed once the kernel
  // has made room, last_* updated, the v2 guard following the limit. Returns
  // whether the snapshot shows the kernel hitting its limit (policy::limit_signal).
  bool observe(Child& c, const sampler::Sample& s);
  // v2: memory.high a guard below memory.max, following max as it changes.
  void update_guard(Child& c);
  // v1: gives a paused child its OOM killer back; false when the write failed.
  bool release(Child& c);
  // v1: a parent released at its own limit is armed again once the kernel
  // has made room (no longer under_oom).
  void rearm_roots();

 private:
  void arm_roots();
  void on_root_oom(const std::string& path);
  void on_birth(const Birth& b);
  void retry_births();
  void disarm_inherited(const std::string& rel);
  void sweep_descendants();
  void arm(Child& c);
  void armed_after_birth(Child& c, const char* what);
  std::map<std::string, Child>::iterator drop(std::map<std::string, Child>::iterator it);
  // drop(), with the one log line saying so (renamed: another cgroup has its name).
  std::map<std::string, Child>::iterator drop_gone(std::map<std::string, Child>::iterator it, bool renamed);

  const cg::Hierarchy& h_;
  actuate::Journal& journal_;
  Loop& loop_;
  std::vector<std::string> roots_;
  Settings set_;
  Hooks hooks_;
  std::map<std::string, Child> kids_;
  std::map<std::string, ManagedRoot> mroots_;
  std::optional<V2EventsWatch> v2w_;
  std::unique_ptr<BirthWatch> births_;  // nullptr: children found by the walk only
  std::vector<Birth> pending_births_;   // not visible yet when their event came
  int retry_timer_ = -1;                // one-shot: pending_births_ looked at again
  std::unordered_map<uint64_t, std::string> deep_;  // v1: descendants below children seen born (id -> path)
  std::set<uint64_t> swept_;            // v1: descendants sweep_descendants() has looked at
  uint64_t birth_drops_seen_ = 0;
};

}  // namespace ow::rescue
