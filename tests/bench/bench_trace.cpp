// The cost of `oomwatch trace` on the node: a page-fault loop (mmap 4 MiB,
// touch every 4 KiB page, munmap; THP off so each page faults) timed with no
// tracing, while tracing another cgroup, and while tracing the loop's own
// cgroup. The three run interleaved, round after round (order rotated), so
// drift of a shared machine hits all alike; the figures are medians of the
// per-round ratios against the round's untraced run.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "bench_util.hpp"
#include "cgroup/scoped.hpp"
#include "trace/bpf_tracer.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

using namespace ow;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kRegion = 4u << 20;
constexpr int kIters = 32;   // one run: 32 x 1024 page faults
constexpr int kRounds = 25;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// One run of the loop in a child inside `procs` (cgroup.procs); ms, or -1.
double fault_loop_ms(const std::string& procs) {
  int p[2];
  if (::pipe(p) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    int fd = ::open(procs.c_str(), O_WRONLY);
    std::string me = std::to_string(::getpid());
    if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) ::_exit(3);
    ::close(fd);
    long page = ::sysconf(_SC_PAGESIZE);
    auto t = Clock::now();
    for (int i = 0; i < kIters; i++) {
      char* m = static_cast<char*>(::mmap(nullptr, kRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      if (m == MAP_FAILED) ::_exit(4);
      ::madvise(m, kRegion, MADV_NOHUGEPAGE);
      for (size_t off = 0; off < kRegion; off += static_cast<size_t>(page)) m[off] = 1;
      ::munmap(m, kRegion);
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    if (::write(p[1], &ms, sizeof ms) != sizeof ms) ::_exit(5);
    ::_exit(0);
  }
  ::close(p[1]);
  double ms = -1;
  if (::read(p[0], &ms, sizeof ms) != sizeof ms) ms = -1;
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ms : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main() {
  setup_logging("warn");
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto h = cg::Hierarchy::discover();
  if (!h) return std::fprintf(stderr, "%s\n", h.error().message().c_str()), 1;
  bench::sweep_stale_cgroups(*h);
  auto missing = trace::missing_tracepoints(trace::kStatTracepoints);
  if (!missing || !missing->empty()) {
    std::printf("no memcg stat tracepoints in this kernel: nothing to measure\n");
    return 0;
  }
  // Every early return from here runs the ScopedCgroups' destructors.
  auto loop_cg = cg::ScopedCgroup::create(*h, h->self(), "owbench-trace", kUnlimited);
  if (!loop_cg) return std::fprintf(stderr, "%s\n", loop_cg.error().message().c_str()), 1;
  auto other_cg = cg::ScopedCgroup::create(*h, h->self(), "owbench-trace", kUnlimited);
  if (!other_cg) return std::fprintf(stderr, "%s\n", other_cg.error().message().c_str()), 1;
  std::string procs = h->abs(loop_cg->path()) + "/cgroup.procs";

  enum { kNone, kOther, kSame, kConds };
  const char* names[kConds] = {"no tracing", "tracing another cgroup", "tracing the loop's cgroup"};
  std::vector<double> ms[kConds];
  fault_loop_ms(procs);  // warm-up
  for (int r = 0; r < kRounds && !g_stop; r++) {
    for (int k = 0; k < kConds && !g_stop; k++) {
      int c = (r + k) % kConds;  // rotate the order each round
      std::unique_ptr<trace::BpfTracer> t;
      if (c != kNone) {
        const auto& target = c == kOther ? other_cg->path() : loop_cg->path();
        auto id = h->id_of(target);
        if (!id) return std::fprintf(stderr, "%s\n", id.error().message().c_str()), 1;
        auto o = trace::BpfTracer::open(*id, h->abs(target));
        if (!o) return std::fprintf(stderr, "%s\n", o.error().message().c_str()), 1;
        t = std::move(*o);
      }
      double v = fault_loop_ms(procs);
      if (v < 0) return std::fprintf(stderr, "fault loop failed\n"), 1;
      ms[c].push_back(v);
    }
  }
  if (g_stop) return 1;
  std::vector<double> ratio[kConds];
  for (int c = 0; c < kConds; c++)
    for (size_t r = 0; r < ms[c].size(); r++) ratio[c].push_back(ms[c][r] / ms[kNone][r]);
  std::printf("page-fault loop: %d x mmap %zu MiB, touch every page, munmap; %d interleaved rounds\n", kIters,
              kRegion >> 20, kRounds);
  for (int c = 0; c < kConds; c++)
    std::printf("  %-28s median %7.1f ms  median ratio %.3fx\n", names[c], median(ms[c]), median(ratio[c]));
  double other = median(ratio[kOther]), same = median(ratio[kSame]);
  bench::row("page-fault loop, `trace` of another cgroup attached (x no tracing)", bench::fmt("%.2fx", other),
             "<= 1.20x", other <= 1.20);
  bench::row("page-fault loop, `trace` of its own cgroup attached (x no tracing)", bench::fmt("%.2fx", same),
             "<= 1.30x", same <= 1.30);
  return 0;
}
