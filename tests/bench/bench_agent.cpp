// The agent's own cost at scale: `oomwatch run` (the real binary) watching
// N real cgroups (default 10,000, plus the 1,000 of the same run for
// comparison) at a 1 s interval with the history database on, as % of one
// core over a measured stretch after warm-up (60 s by default, so a minute's
// roll-up of the history falls inside it), and its RSS, now and at its peak
// (the roll-up is where memory peaks). Then `oomwatch
// stats` over what the agent recorded, timed. Prints figures and summary rows
// with their goals; asserts nothing about time (shared, noisy machines).
// Every cgroup it makes is removed on every path except SIGKILL; a killed
// run's leftovers (owbench-*-PID-N) are swept at the next start.
// Usage: bench_agent [--cgroups N] [--seconds S]
#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgroup/scoped.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

using namespace ow;
using Clock = std::chrono::steady_clock;

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Cost {
  double cpu_pct = -1, rss_mib = -1, peak_mib = -1, stats_s = -1;
  size_t cgroups = 0;
};

// n cgroups under a fresh parent, the agent over them for `secs` after a
// warm-up, then `stats` over the database it wrote.
Cost measure(const cg::Hierarchy& h, const std::string& bin, int n, int secs) {
  Cost c;
  auto parent = cg::ScopedCgroup::create(h, h.self(), "owbench-agent", kUnlimited);
  if (!parent) {
    std::fprintf(stderr, "%s\n", parent.error().message().c_str());
    return c;
  }
  auto t0 = Clock::now();
  for (int i = 0; i < n && !g_stop; ++i) {
    if (auto st = h.create(cg::join_rel(parent->path(), "c" + std::to_string(i))); !st) {
      std::fprintf(stderr, "%s\n", st.error().message().c_str());
      return c;
    }
    if ((i + 1) % 2500 == 0) std::printf("  created %d of %d cgroups\n", i + 1, n);
  }
  std::printf("  %d cgroups created in %.1f s\n", n, std::chrono::duration<double>(Clock::now() - t0).count());
  char tmpl[] = "/var/tmp/owbench-agent-XXXXXX";
  if (!::mkdtemp(tmpl)) return c;
  std::string tmp = tmpl;
  pid_t d = bench::spawn({bin, "run", "--interval", "1s", "--db", tmp + "/history.db", "--audit-log",
                          tmp + "/audit.jsonl", "--state-dir", tmp + "/state", "--pin-dir", "none"});
  // Warm-up: start-up (BPF load, first walk, database creation) is not the steady cost.
  for (int i = 0; i < 50 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  uint64_t c0 = bench::cpu_ticks(d);
  auto w0 = Clock::now();
  for (int i = 0; i < secs * 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  uint64_t c1 = bench::cpu_ticks(d);
  double wall = std::chrono::duration<double>(Clock::now() - w0).count();
  uint64_t rss = bench::rss_kib(d), peak = bench::status_kib(d, "VmHWM:");
  bench::stop(d);
  if (!g_stop && c1 > 0) {
    double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    c.cpu_pct = 100.0 * static_cast<double>(c1 - c0) / hz / wall;
    c.rss_mib = static_cast<double>(rss) / 1024;
    c.peak_mib = static_cast<double>(peak) / 1024;
    c.cgroups = static_cast<size_t>(n) + 1;
    // `stats` over everything the agent recorded under the parent (exact, from raw samples).
    auto s0 = Clock::now();
    std::string cmd = bin + " stats --db " + tmp + "/history.db --cgroup " + parent->path() +
                      " --format json > /dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    if (rc == 0) c.stats_s = std::chrono::duration<double>(Clock::now() - s0).count();
    else std::fprintf(stderr, "oomwatch stats exited %d\n", rc);
  }
  std::system(("rm -rf " + tmp).c_str());
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  setup_logging("warn");
  int n = 10000, secs = 60;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cgroups" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) secs = std::atoi(argv[++i]);
    else return std::fprintf(stderr, "usage: bench_agent [--cgroups N] [--seconds S]\n"), 2;
  }
  if (n < 1 || secs < 1) return std::fprintf(stderr, "bench_agent: --cgroups and --seconds must be positive\n"), 2;
  if (::geteuid() != 0) return std::fprintf(stderr, "bench_agent needs root (cgroups, BPF)\n"), 1;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto h = cg::Hierarchy::discover();
  if (!h) return std::fprintf(stderr, "%s\n", h.error().message().c_str()), 1;
  bench::sweep_stale_cgroups(*h);
  std::string bin = bench::oomwatch_bin();
  std::printf("oomwatch run --interval 1s with history, %d s measured after 5 s of warm-up, memory hierarchy %s\n",
              secs, cg::version_name(h->version()));
  std::printf("%9s %10s %9s %9s %10s\n", "cgroups", "% core", "RSS MiB", "peak MiB", "stats s");
  Cost small, big;
  for (int count : {1000, n}) {
    if (g_stop) break;
    Cost c = measure(*h, bin, count, secs);
    std::printf("%9zu %9.2f%% %9.1f %9.1f %10.3f\n", c.cgroups, c.cpu_pct, c.rss_mib, c.peak_mib, c.stats_s);
    (count == n ? big : small) = c;
  }
  if (g_stop) return std::fprintf(stderr, "interrupted: the bench cgroups were removed\n"), 130;
  if (big.cpu_pct < 0) return 1;
  std::printf("at %zu cgroups: %.2fx the CPU of %zu cgroups for %.1fx the cgroups\n", big.cgroups,
              small.cpu_pct > 0 ? big.cpu_pct / small.cpu_pct : 0.0, small.cgroups,
              static_cast<double>(big.cgroups) / static_cast<double>(small.cgroups));
  std::string at = std::to_string(n) + " cgroups";
  bench::row("agent CPU, " + at + ", 1 s, history on", bench::fmt("%.2f %% of a core", big.cpu_pct), "<= 2 %",
             big.cpu_pct <= 2);
  bench::row("agent RSS at its peak, " + at, bench::fmt("%.1f MiB", big.peak_mib) + bench::fmt(" (%.1f MiB at the end)", big.rss_mib),
             "<= 40 MiB", big.peak_mib <= 40);
  return 0;
}
