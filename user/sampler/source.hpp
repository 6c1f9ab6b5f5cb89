// Where snapshots come from: the BPF cgroup iterator (one walk in the kernel,
// ~0.2 us per cgroup) or, on kernels without it, cgroupfs files (~32 us per
// cgroup). Both return raw per-cgroup figures keyed by cgroup id; the Sampler
// adds timestamps and paths.
#pragma once
#include <memory>
#include <string>
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
};

// Iterator source. Needs a Loader opened with snapshots=true (and loaded).
class BpfSource : public Source {
 public:
  static Result<std::unique_ptr<BpfSource>> open(const bpf::Loader& loader, const cg::Hierarchy& h,
                                                 const std::string& root_rel = "/");
  ~BpfSource() override;
  Result<std::vector<Sample>> read() override;
  const char* name() const override { return "bpf-iter"; }
  uint32_t walks_last_read() const { return walks_; }

 private:
  BpfSource() = default;
  const bpf::Loader* loader_ = nullptr;
  Link link_;
  const void* recs_ = nullptr;  // mmapped snap_recs
  size_t recs_len_ = 0;
  uint32_t walks_ = 0;
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
