#include <algorithm>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bpf/obj.hpp"
#include "oomwatch.skel.h"
#include "sampler/source.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

static_assert(sizeof(ow_memcg_rec) == 128, "ABI of struct ow_memcg_rec changed: update both sides");

namespace ow::sampler {
namespace {
// PAGE_COUNTER_MAX pages: the kernel's "no limit", whatever the page size.
uint64_t limit_or_unlimited(uint64_t bytes) { return bytes >= (1ULL << 62) ? kUnlimited : bytes; }
// MEMCG_CHARGE_BATCH in 6.x kernels (32 before 6.1, so the bound holds there too).
constexpr uint64_t kMemcgChargeBatch = 64;
}  // namespace

uint64_t BpfSource::lag_bound_bytes() {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  long pg = ::sysconf(_SC_PAGESIZE);
  return 2 * kMemcgChargeBatch * static_cast<uint64_t>(cpus > 0 ? cpus : 1) * static_cast<uint64_t>(pg > 0 ? pg : 4096);
}

Result<std::unique_ptr<BpfSource>> BpfSource::open(const bpf::Loader& loader, const cg::Hierarchy& h,
                                                   const std::string& root_rel, BpfSourceOptions o) {
  if (!loader.snapshots_loaded()) return app_error("the cgroup iterator is not loaded on this kernel");
  std::unique_ptr<BpfSource> s(new BpfSource());
  s->loader_ = &loader;
  s->opts_ = o;
  s->root_stat_path_ = h.abs(root_rel) + "/memory.stat";
  s->inactive_key_ = inactive_file_key(h.version());
  s->v2_ = h.version() == cg::Version::V2;
  auto* skel = loader.skel();
  UniqueFd root(::open(h.abs(root_rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return sys_error("open cgroup", h.abs(root_rel));

  union bpf_iter_link_info linfo = {};
  linfo.cgroup.cgroup_fd = static_cast<__u32>(root.get());
  linfo.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
  LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, .link_info_len = sizeof linfo);
  bpf_link* link = bpf_program__attach_iter(loader.snap_prog(), &opts);
  if (!link) return sys_error("attach cgroup iterator at", h.abs(root_rel));
  s->link_ = Link(link);

  // Levels in records are relative to the walk's root.
  size_t depth = 0;
  for (char c : root_rel) depth += c == '/';
  s->root_level_ = root_rel == "/" ? 0 : static_cast<__u32>(depth);

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

std::optional<uint64_t> BpfSource::read_root_stat() {
  // The kernel flushes the subtree's pending stats here. The file stays open
  // and is read again from offset 0 (the kernel makes it anew): a fixed part
  // of every walk, so no path walk and open per read.
  if (!root_stat_fd_.valid()) root_stat_fd_ = UniqueFd(::open(root_stat_path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!root_stat_fd_.valid()) return std::nullopt;
  root_stat_buf_.clear();  // keeps its capacity from the last read
  if (::lseek(root_stat_fd_.get(), 0, SEEK_SET) != 0 || !read_all(root_stat_fd_.get(), root_stat_buf_)) {
    root_stat_fd_ = UniqueFd();  // the root went away: open again next time, which reports it
    return std::nullopt;
  }
  uint64_t v;
  if (!stat_value(root_stat_buf_, inactive_key_, v)) return std::nullopt;
  return v;
}

Status BpfSource::walk(std::vector<Sample>& out) {
  auto* bss = loader_->skel()->bss;
  const uint32_t cap = loader_->snap_cap();
  walks_ = 0;
  fresh_ = 0;
  // The refresh turn in walks, shortened when walks are far apart so that
  // no figure is much older than refresh_ns (see BpfSourceOptions).
  uint32_t every = opts_.refresh_every;
  const int64_t now = mono_ns();
  if (const int64_t gap = now - last_walk_ns_; last_walk_ns_ > 0 && gap > 0 && opts_.refresh_ns > 0)
    every = static_cast<uint32_t>(std::clamp<int64_t>(opts_.refresh_ns / gap, 1, every));
  last_walk_ns_ = now;
  for (uint32_t skip = 0;; skip += cap) {
    bss->snap_root_level = root_level_;  // per walk: sources at other roots share the program
    bss->snap_skip = skip;
    bss->snap_seen = 0;
    bss->snap_written = 0;
    bss->snap_fresh = 0;
    // Until the first read's check is done every record is rewritten: a
    // slot may hold what another source sharing the program left there.
    bss->snap_refresh = checked_ ? every : 1;
    // The program writes its records into the mmap'ed array and prints nothing.
    if (auto st = bpf::run_iter(link_.get(), "cgroup iterator"); !st) return st;
    ++walks_;
    fresh_ += bss->snap_fresh;
    const auto* recs = static_cast<const ow_memcg_rec*>(recs_);
    out.reserve(out.size() + bss->snap_written);
    for (uint32_t i = 0; i < bss->snap_written; ++i) {
      const auto& r = recs[i];
      Sample s;
      s.cgroup_id = r.cgroup_id;
      s.usage_bytes = r.usage_bytes;
      s.limit_bytes = limit_or_unlimited(r.limit_bytes);
      s.high_bytes = limit_or_unlimited(r.high_bytes);
      s.peak_bytes = r.peak_bytes;
      s.swap_bytes = r.swap_bytes;
      // Sample::failcnt is v1's failcnt and v2's memory.events "max", as the
      // file source reads them: v2's page counter failcnt counts every failed
      // charge attempt (212 against 87 "max" events after three kills).
      s.failcnt = v2_ ? r.ev_max : r.failcnt;
      s.ev_low = r.ev_low, s.ev_high = r.ev_high, s.ev_max = r.ev_max;
      s.ev_oom = r.ev_oom, s.ev_oom_kill = r.ev_oom_kill;
      s.inactive_file_bytes = r.inactive_file_bytes;
      s.working_set_bytes = r.working_set_bytes;
      if (r.flags & OW_MEMCG_NO_INACTIVE_FILE) no_inactive_ = true;
      if (r.level == 0 && skip == 0 && i == 0) root_inactive_ = r.inactive_file_bytes;
      out.push_back(std::move(s));
    }
    // Seen more than this segment could hold: walk again for the rest.
    if (bss->snap_seen <= skip + cap) break;
  }
  return {};
}

Result<std::vector<Sample>> BpfSource::read() {
  std::optional<uint64_t> stat_inactive;
  if (opts_.flush_stats || !checked_) stat_inactive = read_root_stat();
  std::vector<Sample> out;
  root_inactive_.reset();
  if (auto st = walk(out); !st) return st.error();
  // Once: the layout is known to the program, and the walk root's figure
  // agrees with its memory.stat (catching a kernel whose stats table no longer
  // opens with the LRU counters, see bpf/memcg_inactive.bpf.h). Three tries: the
  // figures move between the two reads.
  for (int attempt = 1; !checked_; ++attempt) {
    if (no_inactive_) {
      spdlog::warn("BPF snapshots: this kernel's memcg stats layout is unknown to the program; inactive_file and "
                   "the working set come from each cgroup's memory.stat instead");
      inactive_from_bpf_ = false;
      break;
    }
    if (!stat_inactive || !root_inactive_) break;  // nothing to check against: trust the layout
    uint64_t a = *stat_inactive, b = *root_inactive_;
    uint64_t diff = a > b ? a - b : b - a;
    if (diff <= lag_bound_bytes() + a / 8) break;
    if (attempt == 3) {
      spdlog::warn("BPF snapshots: inactive_file of {} is {} bytes in the kernel's counters but {} in memory.stat; "
                   "inactive_file and the working set come from each cgroup's memory.stat instead",
                   root_stat_path_, b, a);
      inactive_from_bpf_ = false;
      break;
    }
    stat_inactive = read_root_stat();
    out.clear();
    root_inactive_.reset();
    if (auto st = walk(out); !st) return st.error();
  }
  checked_ = true;
  if (!inactive_from_bpf_)  // not the kernel's figure: leave it to the Sampler (memory.stat)
    for (auto& x : out) x.inactive_file_bytes = x.working_set_bytes = 0;
  return out;
}

}  // namespace ow::sampler
