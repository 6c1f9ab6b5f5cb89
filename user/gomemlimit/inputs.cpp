#include "gomemlimit/inputs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::gomemlimit {

std::optional<uint64_t> parse_mem_total(std::string_view meminfo) {
  for (auto line : split_lines(meminfo)) {
    auto f = split_ws(line);
    if (f.size() < 2 || f[0] != "MemTotal:") continue;
    uint64_t v;
    if (!parse_u64(f[1], v)) return std::nullopt;
    if (f.size() >= 3 && f[2] == "kB") {
      if (v > UINT64_MAX / 1024) return std::nullopt;  // not a real machine: refuse, never wrap
      v *= 1024;
    }
    return v;
  }
  return std::nullopt;
}

namespace {
std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : rel.substr(0, slash);
}
}  // namespace

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

Result<uint64_t> read_mem_total(const std::string& meminfo_path) {
  auto mi = read_text(meminfo_path);
  if (!mi) return mi.error();
  auto total = parse_mem_total(*mi);
  if (!total) return app_error("no MemTotal in", meminfo_path);
  return *total;
}

Result<CalcInput> read_inputs(const cg::Hierarchy& h, const std::string& rel, const std::string& meminfo_path) {
  CalcInput in;
  for (std::string cur = rel;; cur = parent_of(cur)) {
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
