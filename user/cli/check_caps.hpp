// The capabilities `oomwatch run` uses, judged from the effective set
// (/proc/self/status CapEff) for `oomwatch check`: for each, ok, or what
// its absence costs the agent and the fix. Root without them (a container,
// a systemd unit's CapabilityBoundingSet) passes the root check yet loses
// these. Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ow::cli {

struct CapFinding {
  std::string name;    // "capability CAP_SYS_NICE"
  std::string status;  // ok | warn | fail
  std::string detail, consequence, fix;
};

// The CapEff mask of a /proc/PID/status text; nullopt when it has none.
std::optional<uint64_t> parse_cap_eff(std::string_view proc_status);

// One finding per capability the agent uses, in a fixed order. CAP_BPF and
// CAP_PERFMON are covered by CAP_SYS_ADMIN (and do not exist before 5.8);
// without both a capability and its cover, BPF cannot load: fail.
std::vector<CapFinding> capability_findings(uint64_t eff);

}  // namespace ow::cli
