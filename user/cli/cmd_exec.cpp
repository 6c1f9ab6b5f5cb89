// oomwatch exec --memory SIZE [--parent P] -- CMD...: run CMD in a fresh memory
// cgroup, exit with its status (137 when OOM-killed), summary JSON on stderr.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cgroup/scoped.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

#include <nlohmann/json.hpp>

namespace ow::cli {
namespace {

struct ExecOpts {
  std::string memory;
  std::string parent;
  std::vector<std::string> cmd;
};

int run_exec(const ExecOpts& o) {
  auto limit = parse_size(o.memory);
  if (!limit) return fail(kExitUsage, "--memory: " + limit.error().message());
  if (*limit < 4096 || *limit == kUnlimited) return fail(kExitUsage, "--memory " + o.memory + " must be at least one page (4096) and finite");
  if (o.cmd.empty()) return fail(kExitUsage, "no command given", "usage: oomwatch exec --memory 64M -- CMD [ARG]...");
  if (int rc = require_root("exec (creating a cgroup)")) return rc;
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error());
  std::optional<cg::ScopedCgroup> cg;
  if (int rc = throwaway_cgroup(*h, o.parent, "oomwatch-exec", *limit, cg)) return rc;
  install_stop_handlers();
  auto pid = cg::spawn_in(*h, cg->path(), o.cmd);
  if (!pid) return fail(pid.error().err == ENOENT ? 127 : kExitEnv, pid.error());
  auto st = cg::wait_child(*pid, &g_stop);
  auto usage = h->read(cg->path());
  bool oom_killed = false;
  uint64_t peak = 0;
  if (usage) {
    oom_killed = usage->events.oom_kill > 0;
    peak = usage->peak_bytes;
  }
  nlohmann::json j{{"exit_code", st.exit_code}, {"oom_killed", oom_killed}, {"peak_bytes", peak},
                   {"limit_bytes", *limit}, {"cgroup", cg->path()}};
  auto rm = cg->remove();
  if (!rm) j["cleanup_error"] = rm.error().message();
  std::fprintf(stderr, "%s\n", json_line(j).c_str());
  return st.exit_code;
}

}  // namespace

void add_exec(CLI::App* sub, Action& action) {
  auto* o = on_run<ExecOpts>(sub, action, run_exec);
  sub->add_option("--memory", o->memory, "memory limit, e.g. 64M, 1.5GiB")->type_name("SIZE")->required();
  add_parent_flag(sub, o->parent);
  sub->add_option("cmd", o->cmd, "command and arguments (after --)")->type_name("CMD")->required();
}

}  // namespace ow::cli
