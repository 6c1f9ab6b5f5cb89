#include "gomemlimit/inputs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "gomemlimit/tree.hpp"
#include "util/fs.hpp"
#include "util/meminfo.hpp"
#include "util/units.hpp"

namespace ow::gomemlimit {

std::optional<uint64_t> parse_mem_total(std::string_view meminfo) { return parse_meminfo(meminfo, "MemTotal"); }

// v2: memory.max and memory.high (the root has neither); v1: limit_in_bytes.
uint64_t level_limit(const cg::Hierarchy& h, const std::string& rel) {
  uint64_t lim = h.limit(rel).value_or(kUnlimited);
  if (h.version() == cg::Version::V2) {
    if (auto t = read_text(h.abs(rel) + "/memory.high")) lim = std::min(lim, cg::parse_limit(*t).value_or(kUnlimited));
  }
  return lim;
}

Status read_cgroup_figures(const cg::Hierarchy& h, const std::string& rel, CalcInput& in) {
  in.version = h.version();
  auto st = h.stat(rel);
  if (!st) return st.error();
  in.stat = std::move(*st);
  in.v1_kmem_bytes.reset();
  if (h.version() == cg::Version::V1) {
    if (auto t = read_text(h.abs(rel) + "/memory.kmem.usage_in_bytes")) {
      uint64_t v;
      if (parse_u64(trim(*t), v)) in.v1_kmem_bytes = v;
    }
  }
  return {};
}

Result<uint64_t> read_mem_total(const std::string& meminfo_path) { return read_meminfo("MemTotal", meminfo_path); }

Result<CalcInput> read_inputs(const cg::Hierarchy& h, const std::string& rel, const std::string& meminfo_path) {
  CalcInput in;
  for (std::string cur = rel;; cur = parent_path(cur)) {
    in.levels.push_back({cur, level_limit(h, cur)});
    if (cur == "/") break;
  }
  if (auto s = read_cgroup_figures(h, rel, in); !s) return s.error();
  auto total = read_mem_total(meminfo_path);
  if (!total) return total.error();
  in.machine_bytes = *total;
  return in;
}

nlohmann::json to_json(const Breakdown& b, const std::string& cgroup, uint64_t cgroup_id) {
  nlohmann::json j;
  j["cgroup"] = cgroup;
  j["cgroup_id"] = cgroup_id;
  if (b.ok) j["gomemlimit_bytes"] = b.gomemlimit_bytes;
  else j["gomemlimit_bytes"] = nullptr;
  j["effective_limit_bytes"] = b.effective_limit_bytes;
  j["limit_source"] = b.limit_source;
  j["limit_cgroup"] = b.limit_cgroup;
  j["machine_bytes"] = b.machine_bytes;
  j["ebpf_bytes"] = b.ebpf_bytes;
  j["kernel_bytes"] = b.kernel_bytes;
  j["pagetables_bytes"] = b.pagetables_bytes;
  j["sock_bytes"] = b.sock_bytes;
  j["shmem_bytes"] = b.shmem_bytes;
  j["cache_reserve_bytes"] = b.cache_reserve_bytes;
  j["file_bytes"] = b.file_bytes;
  j["nonheap_bytes"] = b.nonheap_bytes;
  j["margin_bytes"] = b.margin_bytes;
  j["available_bytes"] = b.available_bytes;
  j["margin_fraction"] = b.params.margin_fraction;
  j["ratio"] = b.params.ratio;
  j["cache_fraction"] = b.params.cache_fraction;
  if (!b.notes.empty()) j["notes"] = b.notes;
  if (!b.ok) j["error"] = b.error;
  return j;
}

}  // namespace ow::gomemlimit
