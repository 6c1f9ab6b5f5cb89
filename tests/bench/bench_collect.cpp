// CPU cost of `oomwatch collect` (the real binary) at 1,000 cgroups and 10 Hz,
// writing JSONL: its user+system time from wait4's rusage (the BPF iterator's
// walk runs in the reading process, so kernel time is counted too) over its
// wall time, as % of one core. Measured for the default source (the BPF
// iterator), for it without --out (sampling and in-memory statistics only), and
// for the cgroupfs-file fallback (forced with --source files), each also as a
// 1-snapshot run to separate the fixed start-up cost (BPF load
// and verification, the first hierarchy walk) from the steady state.
// The start-up row: 1-snapshot runs, median of 7; OOMWATCH_BIN_BASE=OLD
// alternates an older binary with this one, side by side. The CO-RE BTF cache
// (collect --state-dir, default /run/oomwatch) is filled by a first run, then
// the same runs without the cache (--state-dir "") and with a fresh one each
// time (what the first run on a node costs) are timed too.
// OOMWATCH_BENCH_STARTUP_ONLY=1: the start-up rows alone (no 10 s runs).
// Prints figures; asserts nothing about time (shared, noisy machines).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "cgroup/scoped.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

using namespace ow;
using Clock = std::chrono::steady_clock;

namespace {


struct Run {
  int exit_code = -1;
  double wall_s = 0, user_s = 0, sys_s = 0;
  std::string out, err;
  double cpu_s() const { return user_s + sys_s; }
};

double tv(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

Run run(const std::vector<std::string>& argv) {
  std::string tag = "/tmp/owbench-collect-" + std::to_string(::getpid());
  std::string out = tag + ".out", err = tag + ".err";
  Run r;
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  r.user_s = tv(ru.ru_utime);
  r.sys_s = tv(ru.ru_stime);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out).value_or("");
  r.err = read_text(err).value_or("");
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  return r;
}

}  // namespace

int main() {
  setup_logging("warn");
  if (::geteuid() != 0) return std::fprintf(stderr, "bench_collect needs root (cgroups, BPF)\n"), 1;
  auto h = cg::Hierarchy::discover();
  if (!h) return std::fprintf(stderr, "%s\n", h.error().message().c_str()), 1;
  auto parent = cg::ScopedCgroup::create(*h, h->self(), "owbench-coll", kUnlimited);  // removes its children too
  if (!parent) return std::fprintf(stderr, "%s\n", parent.error().message().c_str()), 1;
  constexpr int kCgroups = 1000;
  for (int i = 0; i < kCgroups - 1; ++i)  // the parent is one of the 1,000
    if (auto st = h->create(cg::join_rel(parent->path(), "c" + std::to_string(i))); !st)
      return std::fprintf(stderr, "%s\n", st.error().message().c_str()), 1;
  std::string bin = bench::oomwatch_bin();
  std::string file = "/tmp/owbench-collect-" + std::to_string(::getpid()) + ".jsonl";

  std::printf("oomwatch collect --interval 100ms --cgroup <%d cgroups> [--out FILE.jsonl], memory hierarchy %s\n",
              kCgroups, cg::version_name(h->version()));
  std::printf("%-9s %-7s %-9s %9s %8s %7s %8s %8s %8s %9s %8s\n", "source", "output", "duration", "snapshots", "skipped",
              "wall s", "user s", "sys s", "% core", "file MiB", "cgroups");
  int rc = 0;
  // The default source writing JSONL (the case the goal is about); the same
  // without --out (sampling and in-memory statistics only: what writing costs
  // is the difference); the cgroupfs fallback forced, writing JSONL.
  struct Case {
    const char* source;
    bool out;
  };
  const bool startup_only = std::getenv("OOMWATCH_BENCH_STARTUP_ONLY") != nullptr;
  for (const Case c : {Case{"auto", true}, Case{"auto", false}, Case{"files", true}}) {
    if (startup_only) break;
    Run fixed, full;
    for (const char* dur : {"1ns", "10s"}) {  // 1ns: one snapshot, the start-up cost
      std::vector<std::string> argv{bin, "collect", "--duration", dur, "--interval", "100ms", "--cgroup",
                                    parent->path(), "--source", c.source, "--json"};
      if (c.out) argv.insert(argv.end(), {"--out", file});
      Run r = run(argv);
      struct stat st{};
      double mib = c.out && ::stat(file.c_str(), &st) == 0 ? st.st_size / 1048576.0 : 0;
      ::unlink(file.c_str());
      if (r.exit_code != 0) {
        std::fprintf(stderr, "collect --source %s --duration %s exited %d: %s\n", c.source, dur, r.exit_code,
                     r.err.c_str());
        rc = 1;
        break;
      }
      auto j = nlohmann::json::parse(r.out, nullptr, false);
      std::string src = "?";
      int64_t snaps = -1, skipped = -1, cgs = -1;
      if (c.out && j.is_object()) {
        src = j.value("source", "?");
        snaps = j.value("snapshots", int64_t{-1});
        skipped = j.value("skipped", int64_t{-1});
        cgs = j.value("cgroups", int64_t{-1});
      } else if (j.is_object() && j.contains(parent->path())) {  // the statistics: one key per cgroup
        src = c.source;
        snaps = j[parent->path()].value("samples", int64_t{-1});
        cgs = static_cast<int64_t>(j.size());
      }
      std::printf("%-9s %-7s %-9s %9lld %8lld %7.2f %8.3f %8.3f %7.2f%% %9.1f %8lld\n", src.c_str(),
                  c.out ? "jsonl" : "stats", dur, static_cast<long long>(snaps), static_cast<long long>(skipped),
                  r.wall_s, r.user_s, r.sys_s, 100 * r.cpu_s() / r.wall_s, mib, static_cast<long long>(cgs));
      if (cgs != kCgroups) std::printf("WARNING: saw %lld cgroups, expected %d\n", static_cast<long long>(cgs), kCgroups);
      (std::string(dur) == "10s" ? full : fixed) = r;
    }
    if (full.exit_code == 0 && c.source == std::string("auto") && full.wall_s > 0) {
      double pct = 100 * full.cpu_s() / full.wall_s;
      bench::row(std::string("collect, 1,000 cgroups at 10 Hz, ") + (c.out ? "JSONL written" : "no output") +
                     ", whole 10 s run",
                 bench::fmt("%.2f %% of a core", pct), "<= 1 %", pct <= 1);
    }
    if (full.exit_code == 0 && fixed.exit_code == 0 && full.wall_s > fixed.wall_s)
      std::printf("  --source %s%s: whole 10 s run %.2f%% of one core; start-up %.0f ms CPU; steady state (minus "
                  "start-up) %.2f%% of one core\n",
                  c.source, c.out ? " --out jsonl" : " (no --out)", 100 * full.cpu_s() / full.wall_s,
                  1000 * fixed.cpu_s(), 100 * (full.cpu_s() - fixed.cpu_s()) / (full.wall_s - fixed.wall_s));
  }
  // The one-time start-up (BTF, verification, attach, the first id walk and
  // snapshot): 1-snapshot runs, median of 7. With OOMWATCH_BIN_BASE set (an
  // older binary), that one's runs alternate with these, side by side.
  {
    const char* base = std::getenv("OOMWATCH_BIN_BASE");
    auto one_snapshot = [&](const std::string& b, const std::vector<std::string>& extra) -> double {
      std::vector<std::string> argv{b, "collect", "--duration", "1ns", "--interval", "100ms", "--cgroup", parent->path(),
                                    "--out", file, "--json"};
      argv.insert(argv.end(), extra.begin(), extra.end());
      Run r = run(argv);
      ::unlink(file.c_str());
      if (r.exit_code != 0) {
        std::fprintf(stderr, "%s collect (1 snapshot) exited %d: %s\n", b.c_str(), r.exit_code, r.err.c_str());
        return -1;
      }
      return 1000 * r.cpu_s();
    };
    auto med = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    if (one_snapshot(bin, {}) < 0) return 1;  // fills the default state dir's BTF cache
    std::vector<double> cur, old, nocache, fresh;
    const std::string fresh_dir = "/tmp/owbench-collect-state-" + std::to_string(::getpid());
    struct RemoveDir {
      std::string dir;
      ~RemoveDir() { run({"/bin/rm", "-rf", dir}); }
    } remove_fresh{fresh_dir};  // on every path
    for (int i = 0; i < 7; ++i) {
      for (const std::string& b : base ? std::vector<std::string>{bin, base} : std::vector<std::string>{bin}) {
        double ms = one_snapshot(b, {});
        if (ms < 0) return 1;
        (b == bin ? cur : old).push_back(ms);
      }
      double nc = one_snapshot(bin, {"--state-dir", ""});
      double fr = one_snapshot(bin, {"--state-dir", fresh_dir});
      run({"/bin/rm", "-rf", fresh_dir});
      if (nc < 0 || fr < 0) return 1;
      nocache.push_back(nc);
      fresh.push_back(fr);
    }
    std::printf("collect start-up, 1 snapshot of 1,000 cgroups, JSONL, median of 7: %.1f ms of CPU", med(cur));
    if (base) std::printf(" (%s: %.1f ms, ratio %.2f)", base, med(old), med(cur) / med(old));
    std::printf("; without the BTF cache (--state-dir \"\"): %.1f ms; building it (a fresh --state-dir): %.1f ms\n",
                med(nocache), med(fresh));
    bench::row("collect start-up CPU (BTF, verification, attach, first walk), 1,000 cgroups",
               bench::fmt("%.1f ms", med(cur)) + (base ? bench::fmt(" (before: %.1f ms)", med(old)) : std::string()),
               "<= 20 ms", med(cur) <= 20);
  }
  std::printf("goal: <= 1%% of one core for the whole run at 1,000 cgroups and 10 Hz (default source)\n");
  return rc;
}
