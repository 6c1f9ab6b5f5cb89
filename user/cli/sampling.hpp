// The sampler a snapshot-reading command (collect, top) opens: the BPF
// cgroup iterator when it loads (root, 6.1+ with BTF), else cgroupfs files.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bpf/loader.hpp"
#include "cgroup/hierarchy.hpp"
#include "sampler/sampler.hpp"
#include "util/result.hpp"

namespace ow::cli {

struct OpenedSampler {
  std::unique_ptr<bpf::Loader> loader;  // outlives the sampler
  std::unique_ptr<sampler::Sampler> sampler;
  std::string fallback_why;  // why files are read instead of the iterator; "" when the iterator is used
};

// source: "auto" (iterator, else files), "bpf" (iterator or an error), "files".
Result<OpenedSampler> open_sampler(const cg::Hierarchy& h, const std::vector<std::string>& roots,
                                   const std::string& source);

}  // namespace ow::cli
