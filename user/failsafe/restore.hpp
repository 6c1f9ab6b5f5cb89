// Putting the node back: everything a run of the agent changed outside its
// own files, undone from what it left in its state dir. One function serves
// the agent's start (a previous run crashed), its clean exit, the guardian
// (the agent died: failsafe/guardian.hpp) and `oomwatch restore`.
//
// What is put back:
//   - settings in the journal (v1 memory.oom_control oom_kill_disable, v2
//     memory.high guards), original values written back;
//   - a plan the intent file shows half-applied, undone without cutting any
//     limit below usage + margin (actuate::Actuator::recover_intent), each
//     limit audited with trigger "recovery";
//   - GOMEMLIMIT hints the agent published (one file per cgroup id in
//     <state_dir>/gomemlimit): the xattr on the cgroup, the file, the entry
//     in the pinned map (unpinned once empty);
//   - the agent's other pins under pin_dir, and its ready file.
// The caller holds the state dir's lock (failsafe/lock.hpp).
#pragma once
#include <string>
#include <vector>

#include "bpf/bpffs.hpp"
#include "cgroup/hierarchy.hpp"
#include "gomemlimit/publish.hpp"
#include "util/fs.hpp"
#include "util/result.hpp"

namespace ow::failsafe {

struct StatePaths {
  std::string state_dir = kDefaultStateDir;
  std::string pin_dir = bpf::kDefaultPinDir;  // "" = the agent pinned nothing
  std::string audit_log;                          // "" = recovery is not audited

  std::string journal() const { return state_dir + "/journal.json"; }
  std::string intent() const { return state_dir + "/intent.json"; }
  std::string hint_dir() const { return gomemlimit::hint_dir_in(state_dir); }
  std::string ready_file() const { return state_dir + "/ready"; }
  std::string lock_file() const { return state_dir + "/lock"; }
  std::string hint_pin() const { return pin_dir.empty() ? std::string() : gomemlimit::hint_pin_in(pin_dir); }
};

struct RestoreReport {
  int settings = 0;  // journal entries written back
  int limits = 0;    // limits of a half-applied plan put back (or held at usage + margin)
  int hints = 0;     // GOMEMLIMIT hints withdrawn
  int pins = 0;      // stale pins removed
  std::vector<std::string> problems;  // what could not be put back, one line each

  int total() const { return settings + limits + hints + pins; }
};

// Never stops at the first failure: each step is tried and its problem kept.
RestoreReport restore_node(const cg::Hierarchy& h, const StatePaths& p);

// Only the GOMEMLIMIT hints part (the agent's clean exit withdraws its own
// hints through HintService; this is for the ones a dead run left).
int withdraw_hints(const cg::Hierarchy& h, const StatePaths& p, std::vector<std::string>& problems);

}  // namespace ow::failsafe
