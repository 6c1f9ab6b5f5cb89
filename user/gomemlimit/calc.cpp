#include "gomemlimit/calc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "util/units.hpp"

namespace ow::gomemlimit {
namespace {

uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

struct Stat {
  const std::map<std::string, uint64_t>& kv;
  bool has(const std::string& k) const { return kv.count(k) > 0; }
  uint64_t get(const std::string& k) const {
    auto it = kv.find(k);
    return it == kv.end() ? 0 : it->second;
  }
};

uint64_t fraction_of(uint64_t bytes, double f) {
  long double v = static_cast<long double>(bytes) * f;
  return v <= 0 ? 0 : static_cast<uint64_t>(std::floor(v));
}

void fill_v2(const CalcInput& in, Breakdown& b) {
  Stat s{in.stat};
  b.pagetables_bytes = s.get("pagetables") + s.get("sec_pagetables");
  if (s.has("kernel")) {
    // "kernel" (5.18+) is every kmem charge, page tables and eBPF maps included.
    b.kernel_bytes = sat_sub(sat_sub(s.get("kernel"), b.pagetables_bytes), in.ebpf_bytes);
  } else {
    b.kernel_bytes = sat_sub(s.get("kernel_stack") + s.get("slab") + s.get("percpu") + s.get("vmalloc"), in.ebpf_bytes);
    b.notes.push_back("no 'kernel' in memory.stat (before 5.18): kernel = kernel_stack + slab + percpu + vmalloc");
  }
  if (!s.has("pagetables")) b.notes.push_back("no 'pagetables' in memory.stat");
  b.sock_bytes = s.get("sock");
  if (!s.has("sock")) b.notes.push_back("no 'sock' in memory.stat");
  b.shmem_bytes = s.get("shmem");
  b.file_bytes = s.get("file");
  uint64_t pinned = s.get("file_dirty") + s.get("file_writeback");
  b.cache_reserve_bytes = std::min(b.file_bytes, pinned) +
                          fraction_of(sat_sub(sat_sub(b.file_bytes, b.shmem_bytes), pinned), b.params.cache_fraction);
}

void fill_v1(const CalcInput& in, Breakdown& b) {
  Stat s{in.stat};
  if (in.v1_kmem_bytes) {
    b.kernel_bytes = sat_sub(*in.v1_kmem_bytes, in.ebpf_bytes);
  } else {
    b.notes.push_back("no memory.kmem.usage_in_bytes: kernel memory unknown (counted as 0)");
  }
  b.notes.push_back("v1: page tables are inside kmem (kernel_bytes); socket memory is not charged to the limit");
  b.shmem_bytes = s.get("total_shmem");
  b.file_bytes = s.get("total_cache");
  uint64_t pinned = s.get("total_dirty") + s.get("total_writeback");
  b.cache_reserve_bytes = std::min(b.file_bytes, pinned) +
                          fraction_of(sat_sub(sat_sub(b.file_bytes, b.shmem_bytes), pinned), b.params.cache_fraction);
}

}  // namespace

Status validate(const CalcParams& p) {
  if (!(p.margin_fraction >= 0 && p.margin_fraction < 1))
    return app_error(fmt::format("margin {} out of range: want a fraction in [0, 1), e.g. 0.05", p.margin_fraction));
  if (!(p.ratio > 0 && p.ratio <= 1))
    return app_error(fmt::format("ratio {} out of range: want a fraction in (0, 1], e.g. 0.8", p.ratio));
  if (!(p.cache_fraction >= 0 && p.cache_fraction <= 1))
    return app_error(fmt::format("cache fraction {} out of range: want [0, 1]", p.cache_fraction));
  return {};
}

Breakdown compute(const CalcInput& in, const CalcParams& p) {
  Breakdown b;
  b.params = p;
  b.machine_bytes = in.machine_bytes;
  b.ebpf_bytes = in.ebpf_bytes;

  // The tightest limit on the way to the root; ties go to the nearest cgroup.
  b.effective_limit_bytes = in.machine_bytes;
  b.limit_source = "machine";
  for (size_t i = 0; i < in.levels.size(); ++i) {
    const auto& l = in.levels[i];
    if (l.limit_bytes == kUnlimited || l.limit_bytes >= b.effective_limit_bytes) continue;
    b.effective_limit_bytes = l.limit_bytes;
    b.limit_source = i == 0 ? "cgroup" : "ancestor";
    b.limit_cgroup = l.cgroup;
  }
  if (in.machine_bytes == 0 && b.limit_source == "machine") {
    b.error = "no memory limit on the cgroup or its ancestors, and machine memory unknown";
    return b;
  }

  if (in.version == cg::Version::V2) fill_v2(in, b);
  else fill_v1(in, b);
  b.nonheap_bytes = b.ebpf_bytes + b.kernel_bytes + b.pagetables_bytes + b.sock_bytes + b.shmem_bytes +
                    b.cache_reserve_bytes;
  b.margin_bytes = fraction_of(b.effective_limit_bytes, p.margin_fraction);

  long double avail = static_cast<long double>(b.effective_limit_bytes) - b.nonheap_bytes - b.margin_bytes;
  b.available_bytes = static_cast<int64_t>(avail);
  long double hint = avail > 0 ? std::floor(avail * p.ratio) : 0;
  if (hint <= 0) {
    b.error = fmt::format(
        "no positive GOMEMLIMIT: the limit {} ({}) is used up by non-heap memory {} (eBPF {}, kernel {}, page tables {}, "
        "sockets {}, shmem {}, cache reserve {}) and the safety margin {}",
        format_size(b.effective_limit_bytes), b.limit_source == "machine" ? "machine memory" : b.limit_cgroup,
        format_size(b.nonheap_bytes), format_size(b.ebpf_bytes), format_size(b.kernel_bytes),
        format_size(b.pagetables_bytes), format_size(b.sock_bytes), format_size(b.shmem_bytes),
        format_size(b.cache_reserve_bytes), format_size(b.margin_bytes));
    return b;
  }
  b.gomemlimit_bytes = static_cast<uint64_t>(hint);
  b.ok = true;
  return b;
}

}  // namespace ow::gomemlimit
