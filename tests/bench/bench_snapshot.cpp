// Snapshot cost per cgroup: BPF cgroup iterator vs reading cgroupfs files,
// side by side in one run at 10 / 100 / 1,000 / 5,000 cgroups. Prints figures
// and ratios; asserts nothing about time (shared, noisy machines).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bpf/loader.hpp"
#include "cgroup/scoped.hpp"
#include "sampler/source.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

using namespace ow;
using Clock = std::chrono::steady_clock;

namespace {
template <typename F>
double median_us(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main() {
  setup_logging("warn");
  auto h = cg::Hierarchy::discover();
  if (!h) return std::fprintf(stderr, "%s\n", h.error().message().c_str()), 1;
  auto parent = cg::ScopedCgroup::create(*h, h->self(), "owbench-snap", kUnlimited);
  if (!parent) return std::fprintf(stderr, "%s\n", parent.error().message().c_str()), 1;
  bpf::LoaderOptions o;
  o.oom_events = false;
  o.snapshots = true;
  o.memcg_v1 = h->version() == cg::Version::V1;
  auto l = bpf::Loader::open(o);
  if (!l || !(*l)->snapshots_loaded()) return std::fprintf(stderr, "cgroup iterator unavailable\n"), 1;
  // Both sources walk the same subtree: the bench parent and its children.
  auto bpf_src = sampler::BpfSource::open(**l, *h, parent->path());
  if (!bpf_src) return std::fprintf(stderr, "%s\n", bpf_src.error().message().c_str()), 1;
  sampler::FileSource file_src(*h, parent->path());

  std::printf("snapshot cost per cgroup (median of repeated full snapshots), memory hierarchy %s\n",
              cg::version_name(h->version()));
  std::printf("%8s %14s %14s %10s %8s\n", "cgroups", "iter us/cg", "files us/cg", "ratio", "walks");
  int made = 0;
  for (int n : {10, 100, 1000, 5000}) {
    for (; made < n - 1; ++made)  // the parent itself is one of the n
      if (!h->create(cg::join_rel(parent->path(), "c" + std::to_string(made)))) return 1;
    size_t got_b = 0, got_f = 0;
    double bi = median_us(n >= 1000 ? 21 : 101, [&] { got_b = (*bpf_src)->read()->size(); });
    double fi = median_us(n >= 1000 ? 3 : 11, [&] { got_f = file_src.read()->size(); });
    if (got_b != static_cast<size_t>(n) || got_f != static_cast<size_t>(n))
      std::printf("WARNING: iterator saw %zu, files saw %zu, expected %d\n", got_b, got_f, n);
    std::printf("%8d %14.3f %14.3f %9.0fx %8u\n", n, bi / n, fi / n, fi / bi, (*bpf_src)->walks_last_read());
  }
  std::printf("goal: iterator >= 50x cheaper per cgroup than files at 1,000 cgroups\n");
  return 0;
}
