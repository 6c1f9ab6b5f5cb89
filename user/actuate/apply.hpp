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
  // After a crash: undo a half-applied plan left in the intent file.
  // Returns the number of limits put back.
  Result<int> recover_intent();

 private:
  Status write_checked(const std::string& rel, uint64_t bytes);
  Status save_intent(const std::vector<LimitChange>& plan);
  void clear_intent();
  cg::Hierarchy h_;
  std::string intent_;
};

}  // namespace ow::actuate
