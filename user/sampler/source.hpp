// Where snapshots come from: the BPF cgroup iterator (one walk in the kernel,
// ~0.4 us per cgroup at 10,000) or, on kernels without it, cgroupfs files
// (~45 us per cgroup: four files and memory.stat). Both return raw per-cgroup
// figures keyed by cgroup id; the Sampler adds timestamps and paths.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/loader.hpp"
#include "cgroup/hierarchy.hpp"
#include "sampler/sample.hpp"
#include "util/fd.hpp"

namespace ow::sampler {

class Source {
 public:
  virtual ~Source() = default;
  // Every memory cgroup at or below the root given at construction. `path` is
  // filled only by sources that know it for free (files).
  virtual Result<std::vector<Sample>> read() = 0;
  virtual const char* name() const = 0;
  // false: inactive_file_bytes / working_set_bytes of read()'s samples are not
  // filled, the Sampler reads them from each cgroup's memory.stat instead.
  virtual bool fills_inactive_file() const { return true; }
};

// The key of the hierarchical inactive file figure in memory.stat.
inline const char* inactive_file_key(cg::Version v) {
  return v == cg::Version::V1 ? "total_inactive_file" : "inactive_file";
}
// The value of `key` in memory.stat text ("key value" lines); false when absent.
bool stat_value(std::string_view text, std::string_view key, uint64_t& out);
// Fills s.inactive_file_bytes from rel's memory.stat and s.working_set_bytes
// from it and s.usage_bytes (floored at 0).
Status fill_working_set(const cg::Hierarchy& h, const std::string& rel, Sample& s);

struct BpfSourceOptions {
  // Read the walk root's memory.stat before each walk: the kernel flushes
  // pending per-CPU memcg stats (rstat) of the whole subtree when more than
  // MEMCG_CHARGE_BATCH * CPUs updates are pending, so inactive_file is as
  // fresh as memory.stat's own. Costs one file read per snapshot, not per cgroup.
  bool flush_stats = true;
  // Every record is rewritten whole at least once in this many walks; in
  // between, a cgroup whose memory usage and failcnt did not move keeps the
  // record of its last rewrite, so a limit, high, peak, swap, memory.events
  // or inactive_file that moved alone is at most refresh_every - 1 walks old
  // (bpf/snapshot.bpf.h). 1: every walk reads every figure of every cgroup.
  uint32_t refresh_every = kDefaultRefreshEvery;
  static constexpr uint32_t kDefaultRefreshEvery = 10;
  // ... and at most about this old in time: when walks are further apart
  // (the agent's CPU budget stretches its interval), fewer walks make a turn,
  // down to every walk rewriting everything once they are this far apart.
  int64_t refresh_ns = kDefaultRefreshNs;  // <= 0: no bound in time
  static constexpr int64_t kDefaultRefreshNs = 10'000'000'000;
};

// Iterator source. Needs a Loader opened with snapshots=true (and loaded).
class BpfSource : public Source {
 public:
  static Result<std::unique_ptr<BpfSource>> open(const bpf::Loader& loader, const cg::Hierarchy& h,
                                                 const std::string& root_rel = "/", BpfSourceOptions o = {});
  ~BpfSource() override;
  Result<std::vector<Sample>> read() override;
  const char* name() const override { return "bpf-iter"; }
  uint32_t walks_last_read() const { return walks_; }
  // Records the last read's walks rewrote whole (the rest stood unchanged).
  uint32_t fresh_last_read() const { return fresh_; }
  // The records carry inactive_file: the kernel's stats layout is one the
  // program knows and the walk root's figure agreed with its memory.stat at
  // the first read. Until that first read: true.
  bool fills_inactive_file() const override { return inactive_from_bpf_; }
  // How far the BPF inactive_file (so the working set) may be from what
  // memory.stat prints at the same instant, with flush_stats: per-CPU batches
  // not yet folded in, 2 * MEMCG_CHARGE_BATCH (64) pages per online CPU.
  static uint64_t lag_bound_bytes();

 private:
  BpfSource() = default;
  // Reads the walk root's memory.stat (flushing pending stats); its inactive
  // file figure, or nullopt when unreadable.
  std::optional<uint64_t> read_root_stat();
  Status walk(std::vector<Sample>& out);
  const bpf::Loader* loader_ = nullptr;
  BpfSourceOptions opts_;
  Link link_;
  const void* recs_ = nullptr;  // mmapped snap_recs
  size_t recs_len_ = 0;
  uint32_t walks_ = 0;
  uint32_t fresh_ = 0;
  int64_t last_walk_ns_ = 0;  // monotonic: when the last walk began (0: none yet)
  uint32_t root_level_ = 0;  // depth of the walk root, subtracted from record levels
  uint64_t root_id_ = 0;
  std::string root_stat_path_;
  UniqueFd root_stat_fd_;  // kept open: each read seeks to 0 and reads again, no path walk
  std::string root_stat_buf_;
  std::string inactive_key_;
  bool v2_ = false;       // failcnt is memory.events "max" there, as the file source reads it
  bool checked_ = false;  // the first read's check against memory.stat is done
  bool inactive_from_bpf_ = true;
  bool no_inactive_ = false;              // a record had OW_MEMCG_NO_INACTIVE_FILE
  std::optional<uint64_t> root_inactive_;  // the walk root's record, last walk
};

class FileSource : public Source {
 public:
  FileSource(cg::Hierarchy h, std::string root_rel = "/") : h_(std::move(h)), root_(std::move(root_rel)) {}
  Result<std::vector<Sample>> read() override;
  const char* name() const override { return "cgroupfs"; }

 private:
  cg::Hierarchy h_;
  std::string root_;
};

}  // namespace ow::sampler
