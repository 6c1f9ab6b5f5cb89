// Birth-to-armed latency of `oomwatch run --enforce --manage P`: how long a
// new child of P, made as a container runtime makes one (mkdir, then its
// memory limit at once), runs unprotected. Armed means v1 oom_kill_disable 1
// (paused, not killed, at its limit), v2 a memory.high guard below
// memory.max. Measured from the return of mkdir (the cgroup exists) to the
// first read that finds it armed, reading as fast as the bench can; the
// limit write, which the agent needs on v2, is inside that span; the mkdir
// itself is printed apart. p50/p99/max over N
// children (argv[1], default 200), one after another. Root; never a
// pass/fail. OOMWATCH_BIN=<an older build> gives the figure to compare with.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "cgroup/hierarchy.hpp"
#include "cgroup/scoped.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

using namespace ow;

namespace {

constexpr uint64_t kMiB = 1 << 20;
using bench::armed;
using bench::pct;

}  // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::puts("bench_birth: needs root; skipped");
    return 0;
  }
  int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  auto h = cg::Hierarchy::discover();
  if (!h) {
    std::printf("bench_birth: %s\n", h.error().message().c_str());
    return 1;
  }
  bench::sweep_stale_cgroups(*h);
  auto parent = cg::ScopedCgroup::create(*h, h->self(), "owbench-birth", 4096 * kMiB);
  if (!parent) {
    std::printf("bench_birth: %s\n", parent.error().message().c_str());
    return 1;
  }
  char t[] = "/run/owbench-XXXXXX";
  std::string tmp = ::mkdtemp(t);
  std::string bin = bench::oomwatch_bin();
  // At debug level the agent says, per child born under it, how long after
  // the kernel's mkdir timestamp it armed it: its own part, apart from how
  // fast this bench reads.
  pid_t agent =
      bench::spawn({bin, "--log-level", "debug", "run", "--enforce", "--manage", parent->path(), "--interval", "1s", "--db", "none",
                    "--state-dir", tmp + "/state", "--pin-dir", "none", "--audit-log", tmp + "/audit.jsonl"},
                   "/dev/null", tmp + "/agent.log");
  bool ready = false;
  for (int i = 0; i < 3000 && !ready; ++i) {
    ready = ::access((tmp + "/state/ready").c_str(), F_OK) == 0;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!ready) {
    bench::stop(agent);
    std::printf("bench_birth: the agent did not get ready\n");
    return 1;
  }
  std::printf("birth-to-armed latency, %d children made one after another (%s, cgroup %s, %s)\n", n,
              h->mount().c_str(), cg::version_name(h->version()), bin.c_str());
  std::vector<double> lat_us, mkdir_us;
  int never = 0, at_mkdir = 0;
  for (int i = 0; i < n; ++i) {
    std::string rel = parent->path() + "/c" + std::to_string(i);
    auto t_call = std::chrono::steady_clock::now();
    if (!h->create(rel)) {
      std::printf("bench_birth: create %s failed\n", rel.c_str());
      break;
    }
    auto t0 = std::chrono::steady_clock::now();
    mkdir_us.push_back(std::chrono::duration<double, std::micro>(t0 - t_call).count());
    at_mkdir += armed(*h, rel);  // v1: inherited from the parent, before anyone heard of it
    if (!h->set_limit(rel, 64 * kMiB)) {
      std::printf("bench_birth: create %s failed\n", rel.c_str());
      break;
    }
    auto deadline = t0 + std::chrono::seconds(3);
    bool ok = false;
    while (!(ok = armed(*h, rel)) && std::chrono::steady_clock::now() < deadline) {
    }
    auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (ok)
      lat_us.push_back(us);
    else
      ++never;
    (void)h->remove(rel);
  }
  bench::stop(agent);
  double p50 = pct(lat_us, 50) / 1000, p99 = pct(lat_us, 99) / 1000, mx = pct(lat_us, 100) / 1000;
  std::printf("  armed %zu of %d: p50 %.3f ms, p99 %.3f ms, max %.3f ms after mkdir returned (limit write included)\n",
              lat_us.size(), n, p50, p99, mx);
  std::vector<double> agent_us;  // "<path> watched|guarded N us after its mkdir"
  if (auto log = read_text(tmp + "/agent.log"))
    for (auto l : split_lines(*log))
      if (auto e = l.find(" us after its mkdir"); e != std::string_view::npos) {
        auto b = l.rfind(' ', e - 1);
        agent_us.push_back(std::atof(std::string(l.substr(b + 1, e - b - 1)).c_str()));
      }
  std::printf("  the agent's own part (kernel mkdir timestamp to its write, %zu children): p50 %.3f ms, p99 %.3f ms\n",
              agent_us.size(), pct(agent_us, 50) / 1000, pct(agent_us, 99) / 1000);
  std::printf("  mkdir itself (not counted): p50 %.3f ms, p99 %.3f ms\n", pct(mkdir_us, 50) / 1000,
              pct(mkdir_us, 99) / 1000);
  std::printf("  armed already when mkdir returned: %d of %d\n", at_mkdir, n);
  if (never) std::printf("  %d never armed within 3 s\n", never);
  bool v1 = h->version() == cg::Version::V1;
  bench::row(std::string("birth-to-armed p99, ") + cg::version_name(h->version()) + " (" + std::to_string(n) +
                 " children)",
             bench::fmt("%.3f ms", p99) + (v1 ? ", " + std::to_string(at_mkdir) + "/" + std::to_string(n) + " at mkdir" : ""), v1 ? "armed at mkdir (inherited)" : "<= 5 ms",
             never == 0 && (v1 ? at_mkdir == n : p99 <= 5.0));
  std::string cmd = "rm -rf " + tmp;
  (void)std::system(cmd.c_str());
  return 0;
}
