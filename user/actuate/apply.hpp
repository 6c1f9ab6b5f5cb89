// Applies limit changes safely. Callers order the changes (donors first, then
// the receiver, so the parent is never overcommitted by oomwatch); every write
// is read back; a failed write (EBUSY: v1 refuses a limit below usage; ENOENT:
// the cgroup vanished) rolls back what was already done, in reverse. An intent
// file written before the first change makes a crash mid-plan recoverable:
// recover_intent() at the next start finishes nothing and undoes everything
// that is not as the plan left it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "util/result.hpp"

namespace ow::actuate {

struct LimitChange {
  std::string cgroup;  // relative path
  uint64_t old_limit_bytes = 0;
  uint64_t new_limit_bytes = 0;
};

// One limit that recover_intent() looked at.
struct Recovered {
  std::string cgroup;           // relative path
  uint64_t plan_old_bytes = 0;  // the plan's before and after
  uint64_t plan_new_bytes = 0;
  uint64_t before_bytes = 0;    // the limit found, and the limit left
  uint64_t after_bytes = 0;
  std::string result;           // "restored", "kept" (undo would cut below usage + margin), "failed: ..."
};

struct ApplyResult {
  bool ok = false;
  std::vector<LimitChange> applied;  // in order; empty after a rollback
  std::string error;                 // the failed write, when !ok
  bool rolled_back = false;
};

class Actuator {
 public:
  // intent_path: "" disables the intent file (tests of pure ordering).
  Actuator(cg::Hierarchy h, std::string intent_path) : h_(std::move(h)), intent_(std::move(intent_path)) {}
  ApplyResult apply(const std::vector<LimitChange>& plan);
  // After a crash: undo a half-applied plan left in the intent file, each
  // write read back. An undo never lowers a limit below the cgroup's usage
  // plus a margin (max(8 MiB, 10 % of usage)): it stops at that floor, or
  // keeps the current limit when that is already at or below it. A plan the
  // intent shows fully applied is left as it is. Returns what was looked at
  // (empty when there was no intent), for the caller to audit.
  Result<std::vector<Recovered>> recover_intent();

 private:
  Status write_checked(const std::string& rel, uint64_t bytes);
  Status save_intent(const std::vector<LimitChange>& plan);
  void clear_intent();
  cg::Hierarchy h_;
  std::string intent_;
};

}  // namespace ow::actuate
