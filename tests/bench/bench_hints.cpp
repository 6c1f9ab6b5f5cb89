// The GOMEMLIMIT hint tick at 1,000 limited cgroups (10 groups of 100), side
// by side in one run: the tick that walks cgroupfs (readdir, a limit file per
// cgroup, memory.stat per target: what `oomwatch gomemlimit` and a daemon
// without snapshots do) and the tick from the agent's snapshot (figures
// reused unless the cgroup moved). Both on the hint thread, never on the
// agent's loop; medians of 7 steady ticks after the first. Publishes under
// its own xattr name, directory and pin, all removed on every path but
// SIGKILL. Prints figures and summary rows; asserts nothing about time.
#include <dirent.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "hintsvc/service.hpp"
#include "bench_util.hpp"
#include "bpf/loader.hpp"
#include "cgroup/scoped.hpp"
#include "sampler/sampler.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

using namespace ow;

namespace {

struct Places {  // removed on every path
  gomemlimit::PublishOptions opts;
  std::string base;
  std::vector<std::string> dirs;
  Places() {
    std::string u = std::to_string(::getpid());
    base = "/tmp/owbench-hints-" + u;
    opts.xattr_name = "user.owbench.gomemlimit";
    opts.hint_dir = base + "/gomemlimit";
    opts.pin_path = "/sys/fs/bpf/owbench-hints-" + u + "/gomemlimit";
  }
  ~Places() {
    for (const auto& d : dirs) ::removexattr(d.c_str(), opts.xattr_name.c_str());
    ::unlink(opts.pin_path.c_str());
    ::rmdir(opts.pin_path.substr(0, opts.pin_path.rfind('/')).c_str());
    std::system(("rm -rf " + base).c_str());
  }
};

double median_ms(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : static_cast<double>(v[v.size() / 2]) / 1e6;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  setup_logging("warn");
  if (::geteuid() != 0) return std::fprintf(stderr, "bench_hints needs root (cgroups, BPF)\n"), 1;
  auto h = cg::Hierarchy::discover();
  if (!h) return std::fprintf(stderr, "%s\n", h.error().message().c_str()), 1;
  bench::sweep_stale_cgroups(*h);
  auto top = cg::ScopedCgroup::create(*h, h->self(), "owbench-hints", kUnlimited);
  if (!top) return std::fprintf(stderr, "%s\n", top.error().message().c_str()), 1;
  Places places;
  for (int i = 0; i < 10; ++i) {
    std::string mid = cg::join_rel(top->path(), "m" + std::to_string(i));
    if (auto st = h->create(mid); !st) return std::fprintf(stderr, "%s\n", st.error().message().c_str()), 1;
    for (int j = 0; j < 100; ++j) {
      std::string c = cg::join_rel(mid, "c" + std::to_string(j));
      if (auto st = h->create(c); !st) return std::fprintf(stderr, "%s\n", st.error().message().c_str()), 1;
      (void)h->set_limit(c, (64ull + static_cast<uint64_t>(j)) << 20);
      places.dirs.push_back(h->abs(c));
    }
  }
  int rc = 0;
  {
    hintsvc::HintOptions o;
    o.roots = {top->path()};
    o.publish = places.opts;
    auto svc = hintsvc::HintService::open(*h, o);
    if (!svc) return std::fprintf(stderr, "%s\n", svc.error().message().c_str()), 1;
    auto& s = **svc;
    bpf::LoaderOptions lo;
    lo.oom_events = false;
    lo.snapshots = true;
    lo.memcg_v1 = h->version() == cg::Version::V1;
    auto loader = bpf::Loader::open(lo);
    auto smp = sampler::Sampler::open(*h, loader ? loader->get() : nullptr);
    if (!smp) return std::fprintf(stderr, "%s\n", smp.error().message().c_str()), 1;

    s.tick(mono_ns(), true);  // first: every file and xattr created
    auto first = s.last_tick();
    std::vector<int64_t> walk, from_snap;
    size_t reads = 0, targets = 0;
    auto snap = (*smp)->take();
    if (!snap) return std::fprintf(stderr, "%s\n", snap.error().message().c_str()), 1;
    s.tick(mono_ns(), *snap, true);  // fills the figures cache
    for (int i = 0; i < 7; ++i) {  // alternate: the same conditions for both
      s.tick(mono_ns(), true);
      walk.push_back(s.last_tick().duration_ns);
      auto sn = (*smp)->take();
      if (!sn) return std::fprintf(stderr, "%s\n", sn.error().message().c_str()), 1;
      s.tick(mono_ns(), *sn, true);
      from_snap.push_back(s.last_tick().duration_ns);
      reads += s.last_tick().stat_reads;
      targets = s.last_tick().targets;
    }
    double w = median_ms(walk), f = median_ms(from_snap);
    const auto& l = s.last_tick();
    std::printf("GOMEMLIMIT hints, %zu limited cgroups in 10 groups, memory hierarchy %s, sampler %s\n", targets,
                cg::version_name(h->version()), (*smp)->source_name());
    std::printf("first tick (creates every file and xattr): %.1f ms\n", static_cast<double>(first.duration_ns) / 1e6);
    std::printf("steady tick walking cgroupfs:  median %.2f ms\n", w);
    std::printf("steady tick from the snapshot: median %.2f ms (%.1f memory.stat reads a tick), %.0fx cheaper\n", f,
                static_cast<double>(reads) / 7, f > 0 ? w / f : 0.0);
    std::printf("  last one: cgroups %.2f ms, eBPF map walk %.2f ms, figures + compute + publish %.2f ms\n",
                static_cast<double>(l.walk_ns) / 1e6, static_cast<double>(l.ebpf_ns) / 1e6,
                static_cast<double>(l.publish_ns) / 1e6);
    bench::row("hint tick, 1,000 limited cgroups, from the snapshot", bench::fmt("%.2f ms", f), "<= 5 ms", f <= 5);
    bench::row("  hint tick walking cgroupfs (the baseline)", bench::fmt("%.2f ms", w), "(baseline)", true);
    if (targets != 1000) {
      std::fprintf(stderr, "expected 1000 targets, got %zu\n", targets);
      rc = 1;
    }
    (void)s.shutdown();
  }
  return rc;
}
