#include "cli/sampling.hpp"

namespace ow::cli {

std::string btf_cache_in(const std::string& state_dir) { return state_dir.empty() ? "" : state_dir + "/btf"; }

Result<OpenedSampler> open_sampler(const cg::Hierarchy& h, const std::vector<std::string>& roots,
                                   const std::string& source, const std::string& state_dir) {
  OpenedSampler o;
  if (source != "files") {
    bpf::LoaderOptions lo;
    lo.oom_events = false;
    lo.snapshots = true;
    lo.memcg_v1 = h.version() == cg::Version::V1;
    lo.btf_cache_dir = btf_cache_in(state_dir);
    auto l = bpf::Loader::open(lo);
    if (!l) {
      o.fallback_why = l.error().message();
    } else if (!(*l)->snapshots_loaded()) {
      o.fallback_why = "this kernel has no BPF cgroup iterator (6.1+ with BTF)";
    } else {
      auto s = sampler::Sampler::open(h, l->get(), roots);
      if (s) {
        o.loader = std::move(*l);
        o.sampler = std::move(*s);
        return o;
      }
      o.fallback_why = s.error().message();
    }
    if (source == "bpf") return app_error("--source bpf: BPF cgroup iterator unavailable: " + o.fallback_why);
  }
  auto s = sampler::Sampler::open(h, nullptr, roots);
  if (!s) return s.error();
  o.sampler = std::move(*s);
  return o;
}

}  // namespace ow::cli
