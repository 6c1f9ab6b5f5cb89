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
#include "cli/help_format.hpp"
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

// What a run holds from its setup to its end.
template <class Plan>
struct Setup {
  uint64_t avail = 0;  // MemAvailable, which the flags were checked against
  Plan plan;
  std::optional<cg::Hierarchy> h;
  std::optional<ScopedTempDir> file_dir;  // the file strategy's, removed with the Setup
};

// The flags checked against MemAvailable (exit 2 before anything is
// touched), then root and the memory hierarchy, then Ctrl-C and hangup
// handled. 0, or the exit code of the one-line error printed.
template <class Plan, class Args>
int set_up(const char* what, const Args& args, Result<Plan> (*parse)(const Args&, uint64_t, uint64_t),
           Setup<Plan>& s) {
  auto avail = read_mem_available();
  if (!avail) return fail(kExitEnv, avail.error());
  s.avail = *avail;
  auto plan = parse(args, page_size(), *avail);
  if (!plan) return fail(kExitUsage, plan.error());
  s.plan = std::move(*plan);
  if (int rc = require_root(what)) return rc;
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error(), kNoController);
  s.h.emplace(std::move(*h));
  install_all_stop_handlers();
  return kExitOk;
}

// The file strategy's directory, checked to have room for the files of
// `workers` workers that charge per_worker bytes each; the plan points at it.
template <class Plan>
int make_file_dir(Setup<Plan>& s, const std::string& user_dir, uint64_t per_worker, unsigned workers,
                  const char* tag) {
  auto& cfg = s.plan.cfg;
  StepPlan steps(cfg.strategy, per_worker, cfg.step_bytes, page_size());
  auto fd = prepare_file_dir(cfg.strategy, user_dir, steps.planned_bytes(Kind::File) * workers, tag);
  if (fd.failure) return fail(fd.failure->usage ? kExitUsage : kExitEnv, fd.failure->error, fd.failure->hint);
  if (fd.dir) {
    cfg.file_dir = fd.dir->path();
    s.file_dir.emplace(std::move(*fd.dir));
  }
  return kExitOk;
}

// The engine's result, unless Ctrl-C came during the setup.
template <class Run>
auto unless_stopped(Run run) -> decltype(run()) {
  if (g_stop.load()) return app_error("interrupted before the run started");
  return run();
}

// Removes the throw-away cgroup, if any: "", or why it could not be.
std::string remove_error(std::optional<cg::ScopedCgroup>& c) {
  if (!c) return "";
  auto rm = c->remove();
  return rm ? "" : rm.error().message();
}

// The result on stdout as JSON or text; a failed cleanup goes into the JSON,
// or is a line on stderr.
template <class R>
void print_result(const R& r, const std::string& rel, bool json, const std::string& cleanup_error) {
  if (json) {
    auto j = result_json(r, rel);
    if (!cleanup_error.empty()) j["cleanup_error"] = cleanup_error;
    print_line(json_line(j));
  } else {
    print_line(result_text(r, rel));
    if (!cleanup_error.empty()) fail(kExitEnv, "cleanup: " + cleanup_error);
  }
}

int run_test_memory(TestOpts o) {
  o.args.existing_cgroup = !o.cgroup.empty();
  if (o.args.existing_cgroup && !o.parent.empty())
    return fail(kExitUsage, "--cgroup and --parent exclude each other: --cgroup runs in that cgroup itself");
  Setup<TestPlan> s;
  if (int rc = set_up("test-memory (creating a cgroup)", o.args, parse_test_args, s)) return rc;
  auto& cfg = s.plan.cfg;
  if (int rc = make_file_dir(s, o.file_dir, cfg.alloc_bytes, 1, "test")) return rc;

  std::optional<cg::ScopedCgroup> own;
  std::string rel;
  if (o.args.existing_cgroup) {
    if (int rc = resolve_flag(*s.h, "--cgroup", o.cgroup, rel)) return rc;
    auto lim = s.h->limit(rel);
    if (!lim) return fail(kExitEnv, lim.error());
    auto fit = check_fits_machine("--alloc", cfg.alloc_bytes, *lim, s.avail);
    if (!fit) return fail(kExitUsage, fit.error().message() + " (the limit of " + rel + ")");
  } else {
    if (int rc = throwaway_cgroup(*s.h, o.parent, "oomwatch-test", s.plan.limit_bytes, own)) return rc;
    rel = own->path();
  }

  bool tty = !o.json && ::isatty(STDOUT_FILENO);
  bool line_open = false;
  auto progress = [&](const LimitTestProgress& p) {
    if (o.json) {
      print_line(json_line(progress_json(p, cfg, rel)));
    } else if (tty) {
      std::fprintf(stdout, "\r%s\x1b[K", progress_text(p, cfg).c_str());
      std::fflush(stdout);
      line_open = true;
    }
  };
  auto res = unless_stopped([&] { return run_limit_test(*s.h, rel, cfg, progress, g_stop); });
  if (line_open) std::fputc('\n', stdout);
  if (!res) return fail(g_stop.load() ? kExitInterrupted : kExitEnv, res.error());

  std::string cleanup_error = remove_error(own);
  print_result(*res, rel, o.json, cleanup_error);
  if (res->interrupted) return kExitInterrupted;
  if (!res->error.empty() || !cleanup_error.empty()) return kExitEnv;
  return kExitOk;
}

int run_stress_memory(StressOpts o) {
  Setup<StressPlan> s;
  if (int rc = set_up("stress-memory (creating a cgroup)", o.args, parse_stress_args, s)) return rc;
  auto& cfg = s.plan.cfg;
  uint64_t share = worker_share(cfg.target_bytes, cfg.workers, page_size());
  if (int rc = make_file_dir(s, o.file_dir, share, cfg.workers, "stress")) return rc;

  std::optional<cg::ScopedCgroup> own;
  if (int rc = throwaway_cgroup(*s.h, o.parent, "oomwatch-stress", s.plan.limit_bytes, own)) return rc;
  const std::string rel = own->path();

  auto on_sample = [&](const StressSample& smp) {
    print_line(o.json ? json_line(sample_json(smp, rel)) : sample_text(smp));
  };
  auto res = unless_stopped([&] { return run_stress(*s.h, rel, cfg, on_sample, g_stop); });
  std::string cleanup_error = remove_error(own);
  if (!res) return fail(kExitEnv, res.error());
  print_result(*res, rel, o.json, cleanup_error);
  // Ctrl-C is a normal way to end a stress run: exit 0, "interrupted" says so.
  return res->error.empty() && cleanup_error.empty() ? kExitOk : kExitEnv;
}

// --strategy, one of the names parse_strategy accepts.
CLI::Option* add_strategy_flag(CLI::App* sub, std::string& strategy) {
  return one_of(sub->add_option("--strategy", strategy, std::string("what to allocate: ") + kStrategyHelp)
                    ->capture_default_str(),
                strategy_names());
}

// --file-dir, where prepare_file_dir makes the directory for the file
// strategy's `files`.
void add_file_dir_flag(CLI::App* sub, std::string& dir, const char* files) {
  sub->add_option("--file-dir", dir,
                  std::string("disk directory (not tmpfs) for the file strategy's ") + files)->type_name("DIR")
      ->default_str("$TMPDIR, /var/tmp, /tmp");
}

}  // namespace

void add_test_memory(CLI::App* sub, Action& action) {
  auto* o = on_run<TestOpts>(sub, action, run_test_memory);
  sub->add_option("--memory", o->args.memory,
                  "limit of the throw-away cgroup, e.g. 128M; without it --alloc must fit in MemAvailable. A file "
                  "run above it is reclaimed; an anon or shmem run above it is OOM-killed")->type_name("SIZE")
      ->default_str("none");
  sub->add_option("--alloc", o->args.alloc,
                  "how much to allocate, e.g. 48M; at least one page. Past --memory: OOM kill for anon and shmem "
                  "(not reclaimable without swap), reclaim for file")->type_name("SIZE")
      ->required();
  add_strategy_flag(sub, o->args.strategy);
  sub->add_option("--step", o->args.step,
                  "allocate this much per step, at least one page; every strategy charges each step before the next")
      ->type_name("SIZE")
      ->capture_default_str();
  sub->add_option("--step-delay", o->args.step_delay,
                  "pause after each step, e.g. 50ms: a slower climb to watch or to react to")->type_name("DUR")
      ->capture_default_str();
  sub->add_option("--hold", o->args.hold,
                  "keep the memory this long once it is all charged; file pages are re-read meanwhile so the page "
                  "cache stays charged, anon and shmem stay resident")->type_name("DUR")
      ->capture_default_str();
  add_interval_flag(sub, o->args.interval, "progress at most this often", o->args.interval, kMinInterval);
  add_cgroup_flag(sub, o->cgroup, "run in this existing cgroup",
                  " under its own limit instead of a throw-away one; it is not removed. Its anon/shmem OOM kills and "
                  "file reclaim behave as with --memory");
  add_parent_flag(sub, o->parent);
  add_file_dir_flag(sub, o->file_dir, "temp file");
  sub->add_flag("--json", o->json,
                "JSON lines: {\"type\":\"progress\",...} while running, one {\"type\":\"result\",...} at the end; "
                "an unlimited cgroup has \"limit_bytes\":null, \"limit\":\"max\"");
}

void add_stress_memory(CLI::App* sub, Action& action) {
  auto* o = on_run<StressOpts>(sub, action, run_stress_memory);
  sub->add_option("--memory", o->args.memory,
                  "limit of the throw-away cgroup, e.g. 128M. A --target above it means steady reclaim for file and "
                  "repeated OOM kills for anon and shmem")->type_name("SIZE")
      ->required();
  sub->add_option("--target", o->args.target,
                  "memory all workers hold together, e.g. 96M (each holds target/workers); file pages above "
                  "--memory are reclaimed, anon and shmem pages above it get a worker OOM-killed")->type_name("SIZE")
      ->required();
  sub->add_option("--duration", o->args.duration, "how long to keep the pressure, e.g. 30s")
      ->type_name("DUR")->required();
  sub->add_option("--workers", o->args.workers, "worker processes, 1 to 64; an OOM kill takes one")->type_name("N")
      ->capture_default_str();
  add_strategy_flag(sub, o->args.strategy);
  sub->add_option("--step", o->args.step, "growth step and the chunk each worker frees and re-charges per cycle")
      ->type_name("SIZE")
      ->capture_default_str();
  sub->add_option("--cycle", o->args.cycle,
                  "each worker frees and re-charges one chunk this often: file chunks are dropped from the page "
                  "cache and re-read, anon and shmem chunks freed and touched again")->type_name("DUR")
      ->capture_default_str();
  add_interval_flag(sub, o->args.interval, "one sample line per interval", o->args.interval, kMinInterval);
  add_parent_flag(sub, o->parent);
  add_file_dir_flag(sub, o->file_dir, "temp files");
  sub->add_flag("--json", o->json,
                "JSON lines: {\"type\":\"sample\",...} per interval, one {\"type\":\"result\",...} at the end");
}

}  // namespace ow::cli
