#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "oomwatch.skel.h"
#include "sampler/source.hpp"
#include "util/units.hpp"

namespace ow::sampler {
namespace {
// PAGE_COUNTER_MAX pages: the kernel's "no limit", whatever the page size.
uint64_t limit_or_unlimited(uint64_t bytes) { return bytes >= (1ULL << 62) ? kUnlimited : bytes; }
}  // namespace

Result<std::unique_ptr<BpfSource>> BpfSource::open(const bpf::Loader& loader, const cg::Hierarchy& h,
                                                   const std::string& root_rel) {
  if (!loader.snapshots_loaded()) return app_error("the cgroup iterator is not loaded on this kernel");
  std::unique_ptr<BpfSource> s(new BpfSource());
  s->loader_ = &loader;
  auto* skel = loader.skel();
  UniqueFd root(::open(h.abs(root_rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys_error("open cgroup", h.abs(root_rel));

  union bpf_iter_link_info linfo = {};
  linfo.cgroup.cgroup_fd = static_cast<__u32>(root.get());
  linfo.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
  LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, .link_info_len = sizeof linfo);
  bpf_link* link = bpf_program__attach_iter(skel->progs.snap_memcg, &opts);
  if (!link) return sys_error("attach cgroup iterator at", h.abs(root_rel));
  s->link_ = Link(link);

  // Levels in records are relative to the walk's root.
  size_t depth = 0;
  for (char c : root_rel) depth += c == '/';
  skel->bss->snap_root_level = root_rel == "/" ? 0 : static_cast<__u32>(depth);

  s->recs_len_ = sizeof(ow_memcg_rec) * loader.snap_cap();
  long pg = ::sysconf(_SC_PAGESIZE);
  s->recs_len_ = (s->recs_len_ + pg - 1) / pg * pg;
  void* m = ::mmap(nullptr, s->recs_len_, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.snap_recs), 0);
  if (m == MAP_FAILED) return sys_error("mmap snapshot records");
  s->recs_ = m;
  return s;
}

BpfSource::~BpfSource() {
  if (recs_) ::munmap(const_cast<void*>(recs_), recs_len_);
}

Result<std::vector<Sample>> BpfSource::read() {
  auto* bss = loader_->skel()->bss;
  const uint32_t cap = loader_->snap_cap();
  std::vector<Sample> out;
  walks_ = 0;
  for (uint32_t skip = 0;; skip += cap) {
    bss->snap_skip = skip;
    bss->snap_seen = 0;
    bss->snap_written = 0;
    UniqueFd it(bpf_iter_create(bpf_link__fd(link_.get())));
    if (!it.valid()) return sys_error("create cgroup iterator");
    char buf[64];
    ssize_t n;
    while ((n = ::read(it.get(), buf, sizeof buf)) > 0) {
    }
    if (n < 0) return sys_error("walk cgroups");
    ++walks_;
    const auto* recs = static_cast<const ow_memcg_rec*>(recs_);
    for (uint32_t i = 0; i < bss->snap_written; ++i) {
      const auto& r = recs[i];
      Sample s;
      s.cgroup_id = r.cgroup_id;
      s.usage_bytes = r.usage_bytes;
      s.limit_bytes = limit_or_unlimited(r.limit_bytes);
      s.high_bytes = limit_or_unlimited(r.high_bytes);
      s.peak_bytes = r.peak_bytes;
      s.swap_bytes = r.swap_bytes;
      s.failcnt = r.failcnt;
      s.ev_low = r.ev_low, s.ev_high = r.ev_high, s.ev_max = r.ev_max;
      s.ev_oom = r.ev_oom, s.ev_oom_kill = r.ev_oom_kill;
      out.push_back(std::move(s));
    }
    // Seen more than this segment could hold: walk again for the rest.
    if (bss->snap_seen <= skip + cap) break;
  }
  return out;
}

}  // namespace ow::sampler
