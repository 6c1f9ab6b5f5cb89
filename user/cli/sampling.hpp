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
// state_dir: the iterator's CO-RE BTF is cached in state_dir/btf ("": no cache).
Result<OpenedSampler> open_sampler(const cg::Hierarchy& h, const std::vector<std::string>& roots,
                                   const std::string& source, const std::string& state_dir);

// Where a state dir holds the cached CO-RE BTF.
std::string btf_cache_in(const std::string& state_dir);

}  // namespace ow::cli
