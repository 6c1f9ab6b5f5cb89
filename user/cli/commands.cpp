// The subcommands in the order `oomwatch --help` lists them, each with the
// line that listing shows (also the first line of its own --help): the whole
// command list in one place. Each command's flags and what it runs are in its
// cmd_*.cpp.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

namespace ow::cli {
namespace {

struct Command {
  const char* name;
  void (*add)(CLI::App* sub, Action& action);
  const char* about;
};

constexpr Command kCommands[] = {
    {"check", add_check, "report what works on this node, what does not, and how to fix it"},
    {"events", add_events, "stream live OOM kills with victim, cgroup and memory breakdown"},
    {"exec", add_exec,
     "run a command in a fresh memory cgroup with a limit; exit with its status (137 when OOM-killed); JSON "
     "summary on stderr"},
    {"run", add_run,
     "run the agent: streams OOM kills (JSON lines), records history, and moves memory limits to managed cgroups "
     "at their limit (observe-only, audited as dry runs, unless --enforce)"},
    {"stats", add_stats,
     "per-cgroup min/max/median/p95/avg memory over a window, from a sample file or the history database"},
    {"collect", add_collect,
     "sample memory cgroups for a while without the daemon: into a sample file (--out), or print the run's "
     "statistics as `oomwatch stats --format json` does"},
    {"test-memory", add_test_memory,
     "allocate real, charged memory step by step in a throw-away cgroup with a limit, watch its usage, and report "
     "whether the OOM killer fired. file memory is page cache the kernel can reclaim (usually no OOM kill); anon "
     "and shmem cannot be reclaimed without swap (OOM kill past the limit). Exit 0 when the run went as asked, "
     "whatever the outcome (it is in the result); 130 on Ctrl-C"},
    {"stress-memory", add_stress_memory,
     "sustained memory pressure: N workers hold --target together in a throw-away cgroup and keep freeing and "
     "re-charging part of it; reports usage, peak, max/failcnt events and OOM kills over time, restarts killed "
     "workers, stops after --duration or on Ctrl-C (exit 0) and always removes its cgroup. file memory is "
     "reclaimable page cache; anon and shmem are not reclaimable without swap"},
    {"monitor", add_monitor,
     "live usage, limit, percent, peak and max/oom/oom_kill counters of one memory cgroup (v1 or v2), one line per "
     "interval until --duration or Ctrl-C (exit 0). Usage counts file pages (reclaimable page cache) as well as "
     "anon and shmem (not reclaimable without swap)"},
    {"bpf-mem", add_bpfmem, "eBPF memory by map, program, owning process and charged memory cgroup"},
    {"gomemlimit", add_gomemlimit,
     "the GOMEMLIMIT hint for a memory cgroup: its limit minus eBPF, kernel and other non-heap memory"},
    {"restore", add_restore,
     "put back every setting a run left changed (oom_kill_disable, memory.high, a half-applied plan, GOMEMLIMIT "
     "hints, pins); refused while an agent runs"},
    {"recommend", add_recommend,
     "memory request/limit recommendations per container or cgroup, from the working set in the history database"},
    {"top", add_top,
     "live table of memory cgroups: usage and working set against the limit, growth, max/OOM events, GOMEMLIMIT "
     "hints, latest OOM kills and actions"},
    {"report", add_report,
     "one self-contained HTML file: per-cgroup charts with OOM kills and agent actions, window statistics and "
     "recommendations, from the history database"},
    {"trace", add_trace, "which processes of a cgroup charge memory, by kind, for a bounded time"},
};

}  // namespace

void add_commands(CLI::App& app, Action& action) {
  for (const auto& c : kCommands) c.add(app.add_subcommand(c.name, c.about), action);
}

}  // namespace ow::cli
