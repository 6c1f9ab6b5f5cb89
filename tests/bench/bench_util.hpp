// What the benches share: running the real binary as a child, its CPU and
// RSS from /proc, and the summary rows tests/bench.sh gathers into the one
// table `make bench` ends with. Header-only: each bench is one program.
#pragma once
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "util/units.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::bench {

// The build directory's oomwatch (the bench lives in BUILD/bench/), or $OOMWATCH_BIN.
inline std::string oomwatch_bin() {
  if (const char* e = std::getenv("OOMWATCH_BIN")) return e;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "build/oomwatch";
  std::string self(buf, static_cast<size_t>(n));
  std::string dir = self.substr(0, self.rfind('/'));
  return dir.substr(0, dir.rfind('/')) + "/oomwatch";
}

// Starts argv in its own process group, stdout to `out`, stderr to `err`.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& out = "/dev/null",
                   const std::string& err = "/dev/null") {
  std::fflush(stdout);  // or the child repeats what is buffered
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (!std::freopen(out.c_str(), "w", stdout)) _exit(126);
    if (!std::freopen(err.c_str(), "w", stderr)) _exit(126);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    _exit(127);
  }
  return pid;
}

// SIGINT, then SIGKILL to the group after 3 s.
inline void stop(pid_t pid) {
  ::kill(pid, SIGINT);
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// utime + stime of a live process, in clock ticks.
// User + system ticks from a /proc stat file (a process's or a thread's).
inline uint64_t cpu_ticks_of(const std::string& stat_path) {
  auto t = read_text(stat_path);
  if (!t) return 0;
  auto rp = t->rfind(')');
  if (rp == std::string::npos || rp + 2 > t->size()) return 0;
  auto f = split_ws(std::string_view(*t).substr(rp + 2));
  uint64_t u = 0, s = 0;
  if (f.size() < 13) return 0;
  parse_u64(f[11], u);
  parse_u64(f[12], s);
  return u + s;
}
inline uint64_t cpu_ticks(pid_t pid) { return cpu_ticks_of("/proc/" + std::to_string(pid) + "/stat"); }

// A kB figure of /proc/PID/status: VmRSS (now) or VmHWM (the peak so far).
inline uint64_t status_kib(pid_t pid, const char* key) {
  auto t = read_text("/proc/" + std::to_string(pid) + "/status");
  if (!t) return 0;
  for (auto l : split_lines(*t))
    if (l.rfind(key, 0) == 0) {
      auto f = split_ws(l);
      uint64_t v = 0;
      if (f.size() > 1) parse_u64(f[1], v);
      return v;
    }
  return 0;
}
inline uint64_t rss_kib(pid_t pid) { return status_kib(pid, "VmRSS:"); }

// Bench cgroups of a run that died without cleaning up (SIGKILL): owbench-*-PID-N
// under our own cgroup whose PID no longer runs.
inline void sweep_stale_cgroups(const cg::Hierarchy& h) {
  DIR* d = ::opendir(h.abs(h.self()).c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (e->d_type != DT_DIR || n.rfind("owbench-", 0) != 0) continue;
    size_t b = n.rfind('-');
    size_t a = b == std::string::npos || b == 0 ? std::string::npos : n.rfind('-', b - 1);
    if (a == std::string::npos) continue;
    uint64_t pid;
    if (!parse_u64(n.substr(a + 1, b - a - 1), pid) || pid == 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(cg::join_rel(h.self(), n));
  }
  ::closedir(d);
  for (const auto& rel : stale) {
    std::fprintf(stderr, "removing %s, left by a bench that was killed\n", h.abs(rel).c_str());
    (void)h.remove(rel);
  }
}

// One row of the summary table: what was measured, the figure, the goal and
// whether it was met. tests/bench.sh collects these lines ("BENCH-ROW|...")
// from every bench and prints them together at the end.
inline void row(const std::string& measure, const std::string& figure, const std::string& goal, bool met) {
  std::printf("BENCH-ROW|%s|%s|%s|%s\n", measure.c_str(), figure.c_str(), goal.c_str(), met ? "yes" : "NO");
}

// Armed by the agent: v1 oom_kill_disable 1, v2 a memory.high guard.
inline bool armed(const cg::Hierarchy& h, const std::string& rel) {
  if (h.version() == cg::Version::V1) {
    auto e = h.events(rel);
    return e && e->oom_kill_disable;
  }
  auto v = h.high(rel);
  return v && *v != ow::kUnlimited;
}

// Nearest-rank percentile p (0..100) of v; 0 for none.
template <class T>
T pct(std::vector<T> v, unsigned p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = (v.size() * p + 99) / 100;
  return v[std::max<size_t>(rank, 1) - 1];
}

inline std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace ow::bench
