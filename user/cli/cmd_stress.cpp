// oomwatch test-memory and stress-memory: real memory, charged to a
// throw-away cgroup, held by worker processes the OOM killer may take; the
// controlling oomwatch stays outside the cgroup so it survives to report.
// The engines are in stress/; this file is flags, cgroup setup and output.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "cgroup/scoped.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "stress/args.hpp"
#include "stress/limit_report.hpp"
#include "stress/meminfo.hpp"
#include "stress/plan.hpp"
#include "stress/region.hpp"
#include "stress/run_env.hpp"
#include "stress/stress_report.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

using namespace ow::stress;

constexpr int kExitInterrupted = 130;  // test-memory stopped by Ctrl-C before its end

struct TestOpts {
  TestArgs args;
  std::string cgroup, parent, file_dir;
  bool json = false;
};

struct StressOpts {
  StressArgs args;
  std::string parent, file_dir;
  bool json = false;
};

// A closed terminal must clean up like Ctrl-C: the default would leave the cgroup.
void on_hangup(int) { g_stop.store(true); }
void install_all_stop_handlers() {
  install_stop_handlers();
  struct sigaction sa {};
  sa.sa_handler = on_hangup;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, nullptr);
}

const char* kNoController = "oomwatch needs a memory cgroup controller: cgroup v2 with 'memory' in cgroup.controllers, "
                            "or a v1 hierarchy mounted with -o memory";

std::optional<int> env_checks(const char* what, Result<cg::Hierarchy>& h) {
  if (int rc = require_root(what)) return rc;
  h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error(), kNoController);
  return std::nullopt;
}

Result<cg::ScopedCgroup> own_cgroup(const cg::Hierarchy& h, const std::string& parent_arg, const char* prefix,
                                    uint64_t limit_bytes, int& rc) {
  std::string parent = h.self();
  if (!parent_arg.empty()) {
    auto p = h.resolve(parent_arg);
    if (!p) {
      rc = fail(kExitUsage, "--parent: " + p.error().message());
      return p.error();
    }
    parent = *p;
  }
  auto c = cg::ScopedCgroup::create(h, parent, prefix, limit_bytes);
  if (!c) {
    std::string hint = h.version() == cg::Version::V2
                           ? "on cgroup v2 the parent must not hold processes itself; pass --parent with an empty cgroup"
                           : "";
    rc = fail(kExitEnv, c.error(), hint);
  }
  return c;
}

int file_dir_failure(const FileDirError& f) { return fail(f.usage ? kExitUsage : kExitEnv, f.error, f.hint); }

int run_test_memory(TestOpts o) {
  o.args.existing_cgroup = !o.cgroup.empty();
  if (o.args.existing_cgroup && !o.parent.empty())
    return fail(kExitUsage, "--cgroup and --parent exclude each other: --cgroup runs in that cgroup itself");
  auto avail = read_mem_available();
  if (!avail) return fail(kExitEnv, avail.error());
  auto plan = parse_test_args(o.args, page_size(), *avail);
  if (!plan) return fail(kExitUsage, plan.error());

  Result<cg::Hierarchy> h = app_error("unset");
  if (auto rc = env_checks("test-memory (creating a cgroup)", h)) return *rc;
  install_all_stop_handlers();

  StepPlan steps(plan->cfg.strategy, plan->cfg.alloc_bytes, plan->cfg.step_bytes, page_size());
  auto fd = prepare_file_dir(plan->cfg.strategy, o.file_dir, steps.planned_bytes(Kind::File), "test");
  if (fd.failure) return file_dir_failure(*fd.failure);
  if (fd.dir) plan->cfg.file_dir = fd.dir->path();

  std::optional<cg::ScopedCgroup> own;
  std::string rel;
  if (o.args.existing_cgroup) {
    auto r = h->resolve(o.cgroup);
    if (!r) return fail(kExitUsage, "--cgroup: " + r.error().message());
    rel = *r;
    auto lim = h->limit(rel);
    if (!lim) return fail(kExitEnv, lim.error());
    auto fit = check_fits_machine("--alloc", plan->cfg.alloc_bytes, *lim, *avail);
    if (!fit) return fail(kExitUsage, fit.error().message() + " (the limit of " + rel + ")");
  } else {
    int rc = 0;
    auto c = own_cgroup(*h, o.parent, "oomwatch-test", plan->limit_bytes, rc);
    if (!c) return rc;
    own.emplace(std::move(*c));
    rel = own->path();
  }

  bool tty = !o.json && ::isatty(STDOUT_FILENO);
  bool line_open = false;
  auto progress = [&](const LimitTestProgress& p) {
    if (o.json) {
      print_line(json_line(progress_json(p, plan->cfg, rel)));
    } else if (tty) {
      std::fprintf(stdout, "\r%s\x1b[K", progress_text(p, plan->cfg).c_str());
      std::fflush(stdout);
      line_open = true;
    }
  };
  auto res = g_stop.load() ? Result<LimitTestResult>(app_error("interrupted before the run started"))
                           : run_limit_test(*h, rel, plan->cfg, progress, g_stop);
  if (line_open) std::fputc('\n', stdout);
  if (!res) return fail(g_stop.load() ? kExitInterrupted : kExitEnv, res.error());

  std::string cleanup_error;
  if (own) {
    auto rm = own->remove();
    if (!rm) cleanup_error = rm.error().message();
  }
  if (o.json) {
    auto j = result_json(*res, rel);
    if (!cleanup_error.empty()) j["cleanup_error"] = cleanup_error;
    print_line(json_line(j));
  } else {
    print_line(result_text(*res, rel));
    if (!cleanup_error.empty()) fail(kExitEnv, "cleanup: " + cleanup_error);
  }
  if (res->interrupted) return kExitInterrupted;
  if (!res->error.empty() || !cleanup_error.empty()) return kExitEnv;
  return kExitOk;
}

int run_stress_memory(StressOpts o) {
  auto avail = read_mem_available();
  if (!avail) return fail(kExitEnv, avail.error());
  auto plan = parse_stress_args(o.args, page_size(), *avail);
  if (!plan) return fail(kExitUsage, plan.error());

  Result<cg::Hierarchy> h = app_error("unset");
  if (auto rc = env_checks("stress-memory (creating a cgroup)", h)) return *rc;
  install_all_stop_handlers();

  uint64_t share = worker_share(plan->cfg.target_bytes, plan->cfg.workers, page_size());
  StepPlan steps(plan->cfg.strategy, share, plan->cfg.step_bytes, page_size());
  auto fd = prepare_file_dir(plan->cfg.strategy, o.file_dir, steps.planned_bytes(Kind::File) * plan->cfg.workers,
                             "stress");
  if (fd.failure) return file_dir_failure(*fd.failure);
  if (fd.dir) plan->cfg.file_dir = fd.dir->path();

  int rc = 0;
  auto c = own_cgroup(*h, o.parent, "oomwatch-stress", plan->limit_bytes, rc);
  if (!c) return rc;
  const std::string rel = c->path();

  auto on_sample = [&](const StressSample& s) { print_line(o.json ? json_line(sample_json(s, rel)) : sample_text(s)); };
  auto res = g_stop.load() ? Result<StressResult>(app_error("interrupted before the run started"))
                           : run_stress(*h, rel, plan->cfg, on_sample, g_stop);
  auto rm = c->remove();
  if (!res) return fail(kExitEnv, res.error());
  if (o.json) {
    auto j = result_json(*res, rel);
    if (!rm) j["cleanup_error"] = rm.error().message();
    print_line(json_line(j));
  } else {
    print_line(result_text(*res, rel));
    if (!rm) fail(kExitEnv, "cleanup: " + rm.error().message());
  }
  // Ctrl-C is a normal way to end a stress run: exit 0, "interrupted" says so.
  return res->error.empty() && rm ? kExitOk : kExitEnv;
}

std::string strategy_flag_help() { return std::string("what to allocate (default anon): ") + kStrategyHelp; }

}  // namespace

void add_test_memory(CLI::App& app, Action& action) {
  auto [sub, o] = add_command<TestOpts>(
      app, action, "test-memory",
      "allocate real, charged memory step by step in a throw-away cgroup with a limit, watch its usage, and report "
      "whether the OOM killer fired. file memory is page cache the kernel can reclaim (usually no OOM kill); anon "
      "and shmem cannot be reclaimed without swap (OOM kill past the limit). Exit 0 when the run went as asked, "
      "whatever the outcome (it is in the result); 130 on Ctrl-C",
      run_test_memory);
  sub->add_option("--memory", o->args.memory,
                  "limit of the throw-away cgroup, e.g. 128M (default: none, and then --alloc must fit in "
                  "MemAvailable). A file run above it is reclaimed; an anon or shmem run above it is OOM-killed");
  sub->add_option("--alloc", o->args.alloc,
                  "how much to allocate, e.g. 48M; at least one page. Past --memory: OOM kill for anon and shmem "
                  "(not reclaimable without swap), reclaim for file")
      ->required();
  sub->add_option("--strategy", o->args.strategy, strategy_flag_help());
  sub->add_option("--step", o->args.step,
                  "allocate this much per step (default 4M, at least one page); every strategy charges each step "
                  "before the next");
  sub->add_option("--step-delay", o->args.step_delay,
                  "pause after each step, e.g. 50ms (default 0): a slower climb to watch or to react to");
  sub->add_option("--hold", o->args.hold,
                  "keep the memory this long once it is all charged (default 0s); file pages are re-read meanwhile "
                  "so the page cache stays charged, anon and shmem stay resident");
  sub->add_option("--interval", o->args.interval, "progress at most this often (default 250ms)");
  sub->add_option("--cgroup", o->cgroup,
                  "run in this existing cgroup under its own limit instead of a throw-away one; it is not removed. "
                  "Its anon/shmem OOM kills and file reclaim behave as with --memory");
  sub->add_option("--parent", o->parent, "create the throw-away cgroup under this cgroup (default: oomwatch's own)");
  sub->add_option("--file-dir", o->file_dir,
                  "disk directory (not tmpfs) for the file strategy's temp file (default: $TMPDIR, /var/tmp, /tmp)");
  sub->add_flag("--json", o->json,
                "JSON lines: {\"type\":\"progress\",...} while running, one {\"type\":\"result\",...} at the end; "
                "an unlimited cgroup has \"limit_bytes\":null, \"limit\":\"max\"");
}

void add_stress_memory(CLI::App& app, Action& action) {
  auto [sub, o] = add_command<StressOpts>(
      app, action, "stress-memory",
      "sustained memory pressure: N workers hold --target together in a throw-away cgroup and keep freeing and "
      "re-charging part of it; reports usage, peak, max/failcnt events and OOM kills over time, restarts killed "
      "workers, stops after --duration or on Ctrl-C (exit 0) and always removes its cgroup. file memory is "
      "reclaimable page cache; anon and shmem are not reclaimable without swap",
      run_stress_memory);
  sub->add_option("--memory", o->args.memory,
                  "limit of the throw-away cgroup, e.g. 128M. A --target above it means steady reclaim for file and "
                  "repeated OOM kills for anon and shmem")
      ->required();
  sub->add_option("--target", o->args.target,
                  "memory all workers hold together, e.g. 96M (each holds target/workers); file pages above "
                  "--memory are reclaimed, anon and shmem pages above it get a worker OOM-killed")
      ->required();
  sub->add_option("--duration", o->args.duration, "how long to keep the pressure, e.g. 30s")->required();
  sub->add_option("--workers", o->args.workers, "worker processes (default 2, 1 to 64); an OOM kill takes one");
  sub->add_option("--strategy", o->args.strategy, strategy_flag_help());
  sub->add_option("--step", o->args.step,
                  "growth step and the chunk each worker frees and re-charges per cycle (default 4M)");
  sub->add_option("--cycle", o->args.cycle,
                  "each worker frees and re-charges one chunk this often (default 100ms): file chunks are dropped "
                  "from the page cache and re-read, anon and shmem chunks freed and touched again");
  sub->add_option("--interval", o->args.interval, "one sample line per interval (default 1s)");
  sub->add_option("--parent", o->parent, "create the throw-away cgroup under this cgroup (default: oomwatch's own)");
  sub->add_option("--file-dir", o->file_dir,
                  "disk directory (not tmpfs) for the file strategy's temp files (default: $TMPDIR, /var/tmp, /tmp)");
  sub->add_flag("--json", o->json,
                "JSON lines: {\"type\":\"sample\",...} per interval, one {\"type\":\"result\",...} at the end");
}

}  // namespace ow::cli
