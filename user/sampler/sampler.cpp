#include "sampler/sampler.hpp"

#include <time.h>

namespace ow::sampler {

Result<std::unique_ptr<Sampler>> Sampler::open(const cg::Hierarchy& h, const bpf::Loader* loader,
                                               std::vector<std::string> roots) {
  std::unique_ptr<Sampler> s(new Sampler(h));
  s->roots_ = std::move(roots);
  if (loader && loader->snapshots_loaded()) {
    auto b = BpfSource::open(*loader, h);
    if (!b) return b.error();
    s->src_ = std::move(*b);
  } else {
    s->src_ = std::make_unique<FileSource>(h);
  }
  s->ids_.refresh();
  return s;
}

bool Sampler::selected(const std::string& path) const {
  if (roots_.empty()) return true;
  std::string_view p = path;
  for (const auto& r : roots_)
    if (r == "/" || (p.starts_with(r) && (p.size() == r.size() || p[r.size()] == '/'))) return true;
  return false;
}

Result<Snapshot> Sampler::take() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  auto raw = src_->read();
  if (!raw) return raw.error();
  Snapshot snap;
  snap.ts_ns = static_cast<int64_t>(now.tv_sec) * 1000000000LL + now.tv_nsec;
  snap.samples.reserve(raw->size());
  for (auto& s : *raw) {
    if (s.cgroup.empty()) s.cgroup = ids_.path(s.cgroup_id);
    if (s.cgroup.empty()) continue;  // removed between the walk and now
    if (!selected(s.cgroup)) continue;
    // The BPF source without the kernel's inactive-file counter: memory.stat,
    // for this field only (a cgroup removed since keeps 0).
    if (!src_->fills_inactive_file()) (void)fill_working_set(ids_.hierarchy(), s.cgroup, s);
    s.ts_ns = snap.ts_ns;
    snap.samples.push_back(std::move(s));
  }
  return snap;
}

}  // namespace ow::sampler
