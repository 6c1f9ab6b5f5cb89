#include "sampler/sampler.hpp"

#include <algorithm>
#include <iterator>

#include "cgroup/hierarchy.hpp"
#include "util/clock.hpp"

namespace ow::sampler {

namespace {
// The roots to walk: each given root once, none below another ("/" alone when
// any is "/" or none is given).
std::vector<std::string> walk_roots(std::vector<std::string> roots) {
  std::sort(roots.begin(), roots.end());
  std::vector<std::string> out;
  for (const auto& r : roots) {
    if (r == "/") return {"/"};
    bool covered = false;
    for (const auto& o : out)
      covered = covered || cg::is_under(r, o);
    if (!covered) out.push_back(r);
  }
  if (out.empty()) out.push_back("/");
  return out;
}
}  // namespace

Result<std::unique_ptr<Sampler>> Sampler::open(const cg::Hierarchy& h, const bpf::Loader* loader,
                                               std::vector<std::string> roots) {
  auto walk = walk_roots(roots);
  std::unique_ptr<Sampler> s(new Sampler(h, walk == std::vector<std::string>{"/"} ? std::vector<std::string>{} : walk));
  s->roots_ = std::move(roots);
  for (const auto& r : walk) {
    if (loader && loader->snapshots_loaded()) {
      auto b = BpfSource::open(*loader, h, r);
      if (!b) return b.error();
      s->srcs_.push_back(std::move(*b));
    } else {
      s->srcs_.push_back(std::make_unique<FileSource>(h, r));
    }
  }
  s->ids_.refresh();
  return s;
}

bool Sampler::selected(const std::string& path) const {
  if (roots_.empty()) return true;
  for (const auto& r : roots_)
    if (cg::is_under(path, r)) return true;
  return false;
}

Result<Snapshot> Sampler::take() {
  const int64_t now_ns = wall_ns();
  std::vector<Sample> all;
  for (auto& src : srcs_) {
    auto part = src->read();
    if (!part) return part.error();
    if (all.empty()) all = std::move(*part);
    else all.insert(all.end(), std::make_move_iterator(part->begin()), std::make_move_iterator(part->end()));
  }
  Snapshot snap;
  snap.ts_ns = now_ns;
  // Kept in place: a second vector of every sample was as large again at
  // each walk (5 MiB at 30,000 cgroups, beside the one read).
  size_t kept = 0;
  ids_.begin_batch();  // one rewalk at most for this walk's unnamed ids
  for (size_t i = 0; i < all.size(); ++i) {
    Sample& s = all[i];
    if (s.cgroup.empty()) s.cgroup = ids_.path(s.cgroup_id);
    if (s.cgroup.empty()) continue;  // removed between the walk and now
    if (!selected(s.cgroup)) continue;
    // The BPF source without the kernel's inactive-file counter: memory.stat,
    // for this field only (a cgroup removed since keeps 0).
    if (!srcs_.front()->fills_inactive_file()) (void)fill_working_set(ids_.hierarchy(), s.cgroup, s);
    s.ts_ns = snap.ts_ns;
    if (kept != i) all[kept] = std::move(s);
    ++kept;
  }
  ids_.end_batch();
  all.erase(all.begin() + static_cast<std::ptrdiff_t>(kept), all.end());
  snap.samples = std::move(all);
  return snap;
}

}  // namespace ow::sampler
