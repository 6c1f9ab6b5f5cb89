// Applies the agent's recommendations to --manage children (run --enforce
// with [recommend] enforce = true), one bounded step at a time
// (recommend/enforce.hpp), through the actuator (read-back, rollback,
// intent file). Every change is audited like a rescue: a "pending" line
// before the write, the result line (fsynced) after; an audit log that
// cannot be written refuses the change. Without --enforce the step is
// audited as a dry run and nothing is written. Loop thread only.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "actuate/apply.hpp"
#include "recsvc/worker.hpp"
#include "recommend/enforce.hpp"

namespace ow::recsvc {

class RecommendApplier {
 public:
  RecommendApplier(actuate::Actuator& act, std::string audit_log) : act_(act), audit_log_(std::move(audit_log)) {}

  struct Target {
    uint64_t limit_bytes = 0, usage_bytes = 0;  // read now
    uint64_t floor_bytes = 0, ceiling_bytes = UINT64_MAX;  // [[cgroup]] overrides
    bool in_incident = false;
  };
  // The new limit when one was written (nullopt: nothing written).
  std::optional<uint64_t> apply(const NewRecommendation& r, const Target& t, bool dry_run, int64_t now_ns);

 private:
  actuate::Actuator& act_;
  std::string audit_log_;
  recommend::EnforceParams params_;
  std::map<std::string, int64_t> last_;  // path -> when its limit was last changed (or dry-run planned)
};

}  // namespace ow::recsvc
