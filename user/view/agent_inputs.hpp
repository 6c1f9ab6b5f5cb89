// What the agent publishes that `top` and `report` show, read only: its audit
// log (JSON lines, docs/cli.md "Audit record") and its GOMEMLIMIT hint files
// (<hint_dir>/<cgroup id>, decimal bytes). Both are optional: a missing file
// is no data, not an error.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"
#include "view/model.hpp"

namespace ow::view {

inline constexpr const char* kDefaultAuditLog = "/var/log/oomwatch/audit.jsonl";

// One audit line -> an event (source "audit"); nullopt for a line that is not
// a decision record (malformed, no ts). The "pending" line written before a
// change is skipped: its outcome follows on the next line. Pure.
std::optional<Event> parse_audit_line(std::string_view line);

// Events with from_ns <= ts <= to_ns, in file order. tail_bytes > 0 reads only
// the file's last tail_bytes (a live view needs the newest lines only).
// Missing file: empty. Unreadable (permissions, a directory): error.
Result<std::vector<Event>> read_audit_events(const std::string& path, int64_t from_ns, int64_t to_ns,
                                             size_t tail_bytes = 0);

// cgroup id -> hint bytes for the ids given that have a hint file.
std::map<uint64_t, uint64_t> read_hints(const std::string& hint_dir, const std::vector<uint64_t>& ids);

}  // namespace ow::view
