// The agent's own cost at scale: `oomwatch run` (the real binary) with its
// default CPU budget (1 % of a core) and --interval 1s, the history
// database on, watching 1,000, 10,000 and 30,000 real cgroups (memory
// cgroups under the bench's own). For each size: how long creating the
// cgroups took, the agent's CPU as % of one core over a measured stretch
// after a warm-up long enough for the budget to settle the interval (two of
// its 30 s periods, then until a whole period passed with no change), 60 s by default so a minute's roll-up of the history
// falls inside; the effective snapshot interval at the end (from the
// agent's log line of each change); RSS at the end and at its peak
// (VmHWM), the measured stretch's CPU per thread name, and the node's memory cgroups at the end (the agent walks every
// one: other work's cgroups count too); then `oomwatch stats` over what the agent recorded, timed.
// Prints figures and summary rows with their goals; asserts nothing about
// time (shared, noisy machines). Every cgroup it makes is removed on every
// path except SIGKILL; a killed run's leftovers (owbench-*-PID-N) are swept
// at the next start.
// Usage: bench_agent [--cgroups N[,N...]] [--seconds S] [--warmup S]
#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
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
  double cpu_pct = -1, rss_mib = -1, peak_mib = -1, stats_s = -1, create_s = -1, remove_s = -1;
  std::string interval = "?";  // the effective snapshot interval at the end
  int changes = 0;             // interval changes the agent logged
  double settle_s = 0;         // warm-up past the minimum until the interval settled
  size_t cgroups = 0;
  long node_memcgs = -1;       // memory cgroups on the whole node at the end (the agent walks them all)
};

void sleep_s(int secs) {
  for (int i = 0; i < secs * 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

// The agent's log: the interval it last changed to ("snapshot interval A -> B: ..."),
// or base when it never changed.
std::string effective_interval(const std::string& log, const std::string& base, int& changes) {
  std::ifstream in(log);
  std::string line, last = base;
  const std::string key = "snapshot interval ";
  changes = 0;
  while (std::getline(in, line)) {
    auto at = line.find(key);
    if (at == std::string::npos) continue;
    auto arrow = line.find(" -> ", at);
    auto colon = line.find(':', arrow == std::string::npos ? at : arrow);
    if (arrow == std::string::npos || colon == std::string::npos) continue;
    last = line.substr(arrow + 4, colon - arrow - 4);
    ++changes;
  }
  return last;
}

// CPU ticks of each of pid's threads, by thread name (threads of one name
// added up): where the agent's CPU goes (snapshot walks, history, loop).
std::map<std::string, uint64_t> thread_ticks(pid_t pid) {
  std::map<std::string, uint64_t> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
    std::ifstream comm(dir + "/" + e->d_name + "/comm");
    std::string name;
    if (!std::getline(comm, name) || tid <= 0) continue;
    // Per-thread stat has the same layout as the process's.
    out[name] += bench::cpu_ticks_of(dir + "/" + e->d_name + "/stat");
  }
  ::closedir(d);
  return out;
}

// Memory cgroups on the node (/proc/cgroups): other work's cgroups are walked too.
long node_memcgs() {
  std::ifstream in("/proc/cgroups");
  std::string name;
  long hier, num;
  while (in >> name) {
    if (name == "memory" && in >> hier >> num) return num;
    std::getline(in, name);
  }
  return -1;
}

// After the minimum warm-up: waits until the agent has logged no interval
// change for one budget period at its current interval (policy/cpu_budget.hpp:
// 30 s or 4 intervals) and 5 s more, at most max_s. Returns the seconds waited.
double settle(const std::string& log, int max_s) {
  auto t0 = Clock::now();
  int seen = -1;
  auto last_change = Clock::now();
  while (!g_stop && std::chrono::duration<double>(Clock::now() - t0).count() < max_s) {
    int changes = 0;
    std::string iv = effective_interval(log, "1s", changes);
    if (changes != seen) {
      seen = changes;
      last_change = Clock::now();
    }
    auto d = parse_duration(iv);
    double period = std::max(30.0, 4 * (d ? std::chrono::duration<double>(*d).count() : 1.0)) + 5;
    if (std::chrono::duration<double>(Clock::now() - last_change).count() >= period) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// n cgroups under a fresh parent, the agent over them for `secs` after a
// warm-up, then `stats` over the database it wrote.
Cost measure(const cg::Hierarchy& h, const std::string& bin, int n, int warmup, int secs) {
  Cost c;
  auto made = Clock::now();
  {
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
      if ((i + 1) % 5000 == 0) std::printf("  created %d of %d cgroups\n", i + 1, n);
    }
    c.create_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("  %d cgroups created in %.1f s\n", n, c.create_s);
    char tmpl[] = "/var/tmp/owbench-agent-XXXXXX";
    if (!::mkdtemp(tmpl)) return c;
    std::string tmp = tmpl;
    pid_t d = bench::spawn({bin, "run", "--interval", "1s", "--db", tmp + "/history.db", "--audit-log",
                            tmp + "/audit.jsonl", "--state-dir", tmp + "/state", "--pin-dir", "none"},
                           "/dev/null", tmp + "/agent.log");
    // Warm-up: start-up (BPF load, first walk, database creation) is not the
    // steady cost, and the budget settles the interval in its first periods.
    sleep_s(warmup);
    c.settle_s = settle(tmp + "/agent.log", 300);
    uint64_t c0 = bench::cpu_ticks(d);
    auto threads0 = thread_ticks(d);
    auto w0 = Clock::now();
    sleep_s(secs);
    uint64_t c1 = bench::cpu_ticks(d);
    auto threads1 = thread_ticks(d);
    double wall = std::chrono::duration<double>(Clock::now() - w0).count();
    {
      double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
      std::string split = "  per thread, % of a core:";
      for (const auto& [name, ticks] : threads1) {
        auto was = threads0.find(name);
        uint64_t before = was == threads0.end() ? 0 : was->second;
        split += " " + name + bench::fmt(" %.3f", 100.0 * static_cast<double>(ticks - std::min(ticks, before)) / hz / wall);
      }
      std::printf("%s\n", split.c_str());
    }
    uint64_t rss = bench::rss_kib(d), peak = bench::status_kib(d, "VmHWM:");
    c.node_memcgs = node_memcgs();
    bench::stop(d);
    c.interval = effective_interval(tmp + "/agent.log", "1s", c.changes);
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
    if (g_stop || c.cpu_pct < 0) std::system(("tail -n 5 " + tmp + "/agent.log >&2").c_str());
    std::system(("rm -rf " + tmp).c_str());
    made = Clock::now();
  }  // the parent and its n children removed here
  c.remove_s = std::chrono::duration<double>(Clock::now() - made).count();
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  setup_logging("warn");
  std::vector<int> sizes{1000, 10000, 30000};
  int secs = 60, warmup = 65;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cgroups" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::atoi(x.c_str()));
    } else if (a == "--seconds" && i + 1 < argc) secs = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc) warmup = std::atoi(argv[++i]);
    else return std::fprintf(stderr, "usage: bench_agent [--cgroups N[,N...]] [--seconds S] [--warmup S]\n"), 2;
  }
  for (int n : sizes)
    if (n < 1) return std::fprintf(stderr, "bench_agent: --cgroups must be positive\n"), 2;
  if (sizes.empty() || secs < 1 || warmup < 0)
    return std::fprintf(stderr, "bench_agent: --cgroups and --seconds must be positive, --warmup not negative\n"), 2;
  if (::geteuid() != 0) return std::fprintf(stderr, "bench_agent needs root (cgroups, BPF)\n"), 1;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto h = cg::Hierarchy::discover();
  if (!h) return std::fprintf(stderr, "%s\n", h.error().message().c_str()), 1;
  bench::sweep_stale_cgroups(*h);
  std::string bin = bench::oomwatch_bin();
  std::printf("oomwatch run --interval 1s, default CPU budget (1 %% of a core), history on, %d s measured after "
              "%d s of warm-up, memory hierarchy %s\n",
              secs, warmup, cg::version_name(h->version()));
  std::vector<Cost> got;
  for (int count : sizes) {
    if (g_stop) break;
    Cost c = measure(*h, bin, count, warmup, secs);
    std::printf("  removed in %.1f s\n", c.remove_s);
    got.push_back(c);
  }
  if (g_stop) return std::fprintf(stderr, "interrupted: the bench cgroups were removed\n"), 130;
  std::printf("%9s %9s %9s %9s %10s %9s %8s %9s %9s %10s\n", "cgroups", "on node", "create s", "settle s",
              "% core", "interval", "changes", "RSS MiB", "peak MiB", "stats s");
  for (const auto& c : got)
    std::printf("%9zu %9ld %9.1f %9.0f %9.2f%% %9s %8d %9.1f %9.1f %10.3f\n", c.cgroups, c.node_memcgs, c.create_s,
                c.settle_s, c.cpu_pct, c.interval.c_str(), c.changes, c.rss_mib, c.peak_mib, c.stats_s);
  bool ok = true;
  for (size_t i = 0; i < got.size(); ++i) {
    const auto& c = got[i];
    if (c.cpu_pct < 0) {
      ok = false;
      continue;
    }
    std::string at = bench::fmt("%.0f", static_cast<double>(sizes[i])) + " cgroups";
    bench::row("agent CPU, " + at + ", default budget, history on",
               bench::fmt("%.2f %% of a core", c.cpu_pct) + " at " + c.interval, "<= 1 %", c.cpu_pct <= 1);
    bench::row("agent RSS at its peak, " + at,
               bench::fmt("%.1f MiB", c.peak_mib) + bench::fmt(" (%.1f MiB at the end)", c.rss_mib), "<= 64 MiB",
               c.peak_mib <= 64);
  }
  return ok ? 0 : 1;
}
