#include "gomemlimit/hint.hpp"

#include "gomemlimit/inputs.hpp"

namespace ow::gomemlimit {

Result<Hint> hint_for(const cg::Hierarchy& h, const std::string& rel, const bpfmem::Table* table,
                      const CalcParams& params, const std::string& meminfo_path) {
  Hint out;
  if (!table) {
    out.ebpf_source = "unavailable: not measured";
  } else if (table->map_source != "iter/bpf_map") {
    out.ebpf_source = "unavailable: " + (table->warnings.empty() ? table->map_source : table->warnings.front());
  } else {
    out.ebpf_measured = true;
    out.ebpf_source = table->map_source;
  }
  auto in = read_inputs(h, rel, meminfo_path);
  if (!in) return in.error();
  if (out.ebpf_measured) {
    in->ebpf_bytes = bpfmem::subtree_map_bytes(*table, rel);
    for (const auto& m : table->maps)
      if (!m.cgroup.empty() && (rel == "/" || m.cgroup == rel || m.cgroup.rfind(rel + "/", 0) == 0)) ++out.ebpf_maps;
  }
  out.breakdown = compute(*in, params);
  return out;
}

}  // namespace ow::gomemlimit
