// The audit record of one decision: one JSON object per line in the audit log
// (docs/cli.md "Audit record"). These keys come first, in this order:
//   oom_cgroup, added_memory, adjusted_cgroups [{name, reduced_memory}]
// then ts, trigger, source, dry_run, limits_before, limits_after, result,
// reason, and the figures behind the decision: need, from_global, headroom,
// victim_rss (oom_kill only). Bytes are integers; a missing limit is "max".
// adjusted_cgroups lists the donors; the receiver is in limits_before/after.
// Pure: the actuator writes the line (append + fsync).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/realloc.hpp"

namespace ow::policy {

// ts_ns: CLOCK_REALTIME ns -> "2024-05-01T12:00:00.123Z" (UTC, ms truncated).
std::string rfc3339_ms(int64_t ts_ns);

// result: what happened to the plan as the actuator saw it ("applied",
// "rolled_back", ...); empty -> the plan's own outcome ("planned",
// "insufficient", ...), which is what a dry run records.
nlohmann::ordered_json audit_record(const Plan& plan, const Trigger& trigger, bool dry_run,
                                    int64_t ts_ns, std::string_view result = {});

// audit_record(...).dump() with a trailing newline: one JSON line.
std::string audit_line(const Plan& plan, const Trigger& trigger, bool dry_run, int64_t ts_ns,
                       std::string_view result = {});

}  // namespace ow::policy
