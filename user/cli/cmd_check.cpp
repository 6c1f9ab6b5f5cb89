// oomwatch check: what works on this node, what does not, why, and the fix.
// Exit 0 when the agent can run (even degraded), 1 when it cannot.
#include <CLI/CLI.hpp>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bpf/bpffs.hpp"
#include "bpf/loader.hpp"
#include "bpf/probe.hpp"
#include "cli/check_caps.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "trace/bpf_tracer.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

using bpf::kBpfFsMagic;
constexpr long kTraceFsMagic = 0x74726163;

struct Item {
  std::string name, status, detail, consequence, fix;  // status: ok | warn | fail
};

bool is_fs(const char* path, long magic) {
  struct statfs s;
  return ::statfs(path, &s) == 0 && static_cast<long>(s.f_type) == magic;
}

std::string lockdown_mode() {
  const char* p = "/sys/kernel/security/lockdown";
  auto t = read_text(p);
  if (!t && ::geteuid() == 0 && ::mount("securityfs", "/sys/kernel/security", "securityfs", 0, nullptr) == 0)
    t = read_text(p);
  if (!t) return "unknown";
  auto s = std::string(trim(*t));
  auto b = s.find('['), e = s.find(']');
  return (b != std::string::npos && e != std::string::npos) ? s.substr(b + 1, e - b - 1) : s;
}

void probe_hook(std::vector<Item>& out, const bpf::VmlinuxBtf* btf, const std::string& tp, bool required,
                const std::string& consequence) {
  Item it{"tracepoint " + tp, "ok", "", "", ""};
  Status b = btf ? bpf::probe_tp_btf(*btf, tp) : Status(app_error("no BTF"));
  if (b) {
    it.detail = "tp_btf loads and attaches";
  } else if (auto r = bpf::probe_raw_tp(tp)) {
    it.detail = "raw_tp fallback (tp_btf: " + b.error().message() + ")";
  } else {
    it.status = required ? "fail" : "warn";
    it.detail = b.error().message() + "; " + r.error().message();
    it.consequence = consequence;
    it.fix = "a kernel with this tracepoint and BTF (5.5+), not in lockdown=confidentiality";
  }
  out.push_back(it);
}

int run_check(bool json) {
  std::vector<Item> items;
  utsname u{};
  ::uname(&u);
  std::string kernel = u.release;
  bool root = ::geteuid() == 0;
  items.push_back({"root", root ? "ok" : "fail", root ? "running as root" : "not root",
                   root ? "" : "cannot load BPF programs or write cgroup limits", root ? "" : "run as root"});

  // Root is not enough: a container or a unit's bounding set can take the
  // capabilities the agent uses away from uid 0.
  if (root) {
    auto eff = parse_cap_eff(read_text("/proc/self/status").value_or(""));
    if (!eff)
      items.push_back({"capabilities", "warn", "no CapEff in /proc/self/status", "unknown which ones the agent has", ""});
    else
      for (auto& f : capability_findings(*eff)) items.push_back({f.name, f.status, f.detail, f.consequence, f.fix});
  }

  auto btf = bpf::VmlinuxBtf::load();
  items.push_back({"btf", btf ? "ok" : "fail", btf ? "/sys/kernel/btf/vmlinux present" : btf.error().message(),
                   btf ? "" : "CO-RE programs cannot load: no events, no kernel snapshots",
                   btf ? "" : "use a kernel built with CONFIG_DEBUG_INFO_BTF=y"});

  std::string lock = lockdown_mode();
  items.push_back({"lockdown", lock == "confidentiality" ? "warn" : "ok", lock,
                   lock == "none" || lock == "unknown" ? "" : "fentry/fexit/kprobe/LSM refused; oomwatch uses tracepoints and iterators only",
                   ""});

  auto h = memory_hierarchy();
  if (h) {
    items.push_back({"cgroup", "ok",
                     fmt::format("memory controller on cgroup {} at {}; oomwatch is in {}",
                                 cg::version_name(h->version()), h->mount(), h->self()),
                     "", ""});
  } else {
    items.push_back({"cgroup", "fail", h.error().message(), "no cgroup to watch or resize",
                     "mount cgroup2 (or cgroup v1 with -o memory)"});
  }

  bool bpffs = is_fs("/sys/fs/bpf", kBpfFsMagic);
  items.push_back({"bpffs", bpffs ? "ok" : "warn", bpffs ? "/sys/fs/bpf" : "/sys/fs/bpf is not a bpf filesystem",
                   bpffs ? "" : "maps cannot be pinned for bpftool until it is mounted (oomwatch mounts it when it pins)",
                   bpffs ? "" : "mount -t bpf bpf /sys/fs/bpf"});
  bool tracefs = is_fs("/sys/kernel/tracing", kTraceFsMagic) || is_fs("/sys/kernel/debug/tracing", kTraceFsMagic);
  items.push_back({"tracefs", tracefs ? "ok" : "warn", tracefs ? "mounted" : "not mounted",
                   tracefs ? "" : "none for tp_btf/raw_tp hooks; oomwatch mounts it when a tracepoint program needs it",
                   tracefs ? "" : "mount -t tracefs tracefs /sys/kernel/tracing"});

  if (root) {
    const bpf::VmlinuxBtf* b = btf ? &*btf : nullptr;
    probe_hook(items, b, "mark_victim", true, "no OOM-kill events");
    probe_hook(items, b, "mm_vmscan_memcg_reclaim_begin", false, "no reclaim-stall signal for early rescue");
    probe_hook(items, b, "mm_vmscan_memcg_reclaim_end", false, "no reclaim-stall durations");
    probe_hook(items, b, "cgroup_mkdir", false,
               "new children under --manage are armed at the next snapshot walk, not at their birth");
    // `oomwatch trace` only (never attached by the agent); kernel 6.13+
    for (const auto& tp : trace::kAllMemcgTracepoints)
      probe_hook(items, b, tp, false,
                 tp == "count_memcg_events" ? "none (oomwatch trace does not use it: it counts events, not bytes)"
                                            : "oomwatch trace falls back to /proc RSS sampling");
    auto l = bpf::Loader::open({});
    items.push_back({"bpf programs", l ? "ok" : "fail",
                     l ? "oomwatch's skeleton loads and attaches" : l.error().message(),
                     l ? "" : "the agent cannot start", l ? "" : "run 'oomwatch --log-level debug check' for libbpf's log"});
  }

  bool can_run = true;
  for (const auto& i : items) can_run = can_run && i.status != "fail";
  if (json) {
    nlohmann::json j{{"kernel", kernel}, {"can_run", can_run}, {"items", nlohmann::json::array()}};
    for (const auto& i : items)
      j["items"].push_back({{"name", i.name}, {"status", i.status}, {"detail", i.detail},
                            {"consequence", i.consequence}, {"fix", i.fix}});
    print_line(json_line(j));
  } else {
    print_line("kernel " + kernel);
    for (const auto& i : items) {
      print_line(fmt::format("{:<5} {:<40} {}", i.status, i.name, i.detail));
      if (!i.consequence.empty()) print_line("      consequence: " + i.consequence);
      if (!i.fix.empty()) print_line("      fix: " + i.fix);
    }
    print_line(can_run ? "oomwatch can run here" : "oomwatch cannot run here: fix the 'fail' lines above");
  }
  return can_run ? kExitOk : kExitEnv;
}

}  // namespace

void add_check(CLI::App* sub, Action& action) {
  auto* json = on_run<bool>(sub, action, run_check);
  sub->add_flag("--json", *json, "one JSON object");
}

}  // namespace ow::cli
