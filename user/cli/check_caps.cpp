#include "cli/check_caps.hpp"

#include <linux/capability.h>

#include "util/fs.hpp"

namespace ow::cli {
namespace {

// Not in every libc's headers yet (5.8+).
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

std::string fix_for(const std::string& cap) {
  return "give the agent " + cap +
         " (systemd: CapabilityBoundingSet=/AmbientCapabilities=; Kubernetes: securityContext.capabilities.add)";
}

}  // namespace

std::optional<uint64_t> parse_cap_eff(std::string_view proc_status) {
  for (auto line : split_lines(proc_status)) {
    constexpr std::string_view key = "CapEff:";
    if (line.substr(0, key.size()) != key) continue;
    auto v = trim(line.substr(key.size()));
    if (v.empty() || v.size() > 16) return std::nullopt;
    uint64_t m = 0;
    for (char c : v) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      m = m * 16 + static_cast<uint64_t>(d);
    }
    return m;
  }
  return std::nullopt;
}

std::vector<CapFinding> capability_findings(uint64_t eff) {
  auto has = [eff](int cap) { return (eff >> cap) & 1; };
  const bool admin = has(CAP_SYS_ADMIN);
  std::vector<CapFinding> out;
  // Covered by CAP_SYS_ADMIN: ok with either; fail with neither.
  auto covered = [&](int cap, const char* name, const char* cost) {
    CapFinding f{std::string("capability ") + name, "ok", "", "", ""};
    if (has(cap)) {
      f.detail = "in the effective set";
    } else if (admin) {
      f.detail = "not in the effective set; CAP_SYS_ADMIN covers it";
    } else {
      f.status = "fail";
      f.detail = std::string("no ") + name + " and no CAP_SYS_ADMIN";
      f.consequence = cost;
      f.fix = fix_for(name) + " (or CAP_SYS_ADMIN on kernels before 5.8)";
    }
    out.push_back(f);
  };
  auto wanted = [&](int cap, const char* name, const char* cost) {
    CapFinding f{std::string("capability ") + name, "ok", "in the effective set", "", ""};
    if (!has(cap)) {
      f.status = "warn";
      f.detail = std::string("no ") + name;
      f.consequence = cost;
      f.fix = fix_for(name);
    }
    out.push_back(f);
  };
  covered(kCapBpf, "CAP_BPF",
          "BPF programs and maps cannot be created: the agent cannot start (no OOM-kill events, no snapshots)");
  covered(kCapPerfmon, "CAP_PERFMON",
          "tracepoint and iterator programs that read kernel memory cannot load: the agent cannot start");
  wanted(CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
         "bpffs (/sys/fs/bpf) and tracefs cannot be mounted where the node has not mounted them (no pins for "
         "bpftool, no tracefs tracepoints), and before 5.8 nothing BPF loads without it");
  wanted(CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE",
         "oom_score_adj cannot be set to -1000: under node-wide memory pressure the kernel may OOM-kill the agent "
         "itself, and with it every rescue");
  wanted(CAP_SYS_NICE, "CAP_SYS_NICE",
         "the rescue loop cannot take its real-time priority (SCHED_FIFO 1, nor nice -10): a rescue can wait "
         "behind busy CPUs (--loop-priority)");
  wanted(CAP_IPC_LOCK, "CAP_IPC_LOCK",
         "mlockall is held to RLIMIT_MEMLOCK: the agent's code can be paged out under memory pressure and a "
         "rescue wait on the disk");
  wanted(CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE",
         "cgroup files not owned by root (delegated subtrees) cannot be written: such children cannot be "
         "armed or resized");
  wanted(CAP_FOWNER, "CAP_FOWNER",
         "GOMEMLIMIT hints (--hints) cannot be set as xattrs on cgroups not owned by root");
  return out;
}

}  // namespace ow::cli
