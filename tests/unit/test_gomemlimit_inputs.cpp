// Reading the calculator's inputs from a fake cgroupfs tree (v1 and v2),
// MemTotal from meminfo text, and the JSON every component goes out in.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "gomemlimit/hint.hpp"
#include "gomemlimit/inputs.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

using namespace ow;
using namespace ow::gomemlimit;

namespace {
struct TempTree {
  std::string root;
  TempTree() {
    char tmpl[] = "/tmp/owtest-gml-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~TempTree() { (void)!std::system(("rm -rf " + root).c_str()); }
  void file(const std::string& rel, const std::string& text) {
    std::string p = root + rel;
    REQUIRE(mkdir_p(p.substr(0, p.rfind('/'))).ok());
    FILE* f = std::fopen(p.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
};
}  // namespace

TEST_CASE("MemTotal from meminfo text", "[gomemlimit]") {
  CHECK(parse_mem_total("MemTotal:       24684092 kB\nMemFree: 1 kB\n") == 24684092ull * 1024);
  CHECK(parse_mem_total("MemFree: 1 kB\nMemTotal: 1000 kB\n") == 1024000ull);
  CHECK_FALSE(parse_mem_total("MemFree: 1 kB\n").has_value());
  CHECK_FALSE(parse_mem_total("MemTotal: 18014398509481984 kB\n").has_value());  // 2^54 kB would wrap
  CHECK_FALSE(parse_mem_total("MemTotal: lots kB\n").has_value());
}

TEST_CASE("v2 inputs: memory.max and memory.high of each level, stat of the cgroup", "[gomemlimit]") {
  TempTree t;
  t.file("/cg/memory.stat", "anon 1\n");  // the root has no memory.max / memory.high
  t.file("/cg/a/memory.max", "max\n");
  t.file("/cg/a/memory.high", "300000000\n");
  t.file("/cg/a/memory.stat", "anon 2\n");
  t.file("/cg/a/b/memory.max", "400000000\n");
  t.file("/cg/a/b/memory.high", "max\n");
  t.file("/cg/a/b/memory.stat", "anon 5\nfile 1000\nkernel 4096\npagetables 1024\nsock 0\n");
  t.file("/meminfo", "MemTotal: 1000000 kB\n");
  cg::Hierarchy h(t.root + "/cg", cg::Version::V2);
  auto in = read_inputs(h, "/a/b", t.root + "/meminfo");
  REQUIRE(in.ok());
  REQUIRE(in->levels.size() == 3);
  CHECK(in->levels[0].cgroup == "/a/b");
  CHECK(in->levels[0].limit_bytes == 400000000);
  CHECK(in->levels[1].cgroup == "/a");
  CHECK(in->levels[1].limit_bytes == 300000000);  // memory.high counts as a limit
  CHECK(in->levels[2].cgroup == "/");
  CHECK(in->levels[2].limit_bytes == kUnlimited);
  CHECK(in->stat.at("kernel") == 4096);
  CHECK(in->machine_bytes == 1024000000ull);
  CHECK_FALSE(in->v1_kmem_bytes.has_value());
  auto b = compute(*in, {});
  CHECK(b.effective_limit_bytes == 300000000);
  CHECK(b.limit_source == "ancestor");
  CHECK(b.limit_cgroup == "/a");
}

TEST_CASE("v1 inputs: limit_in_bytes, total_* stat and kmem usage", "[gomemlimit]") {
  TempTree t;
  t.file("/mem/memory.limit_in_bytes", "9223372036854771712\n");
  t.file("/mem/memory.stat", "total_rss 1\n");
  t.file("/mem/x/memory.limit_in_bytes", "67108864\n");
  t.file("/mem/x/memory.stat", "cache 0\ntotal_cache 4096\ntotal_shmem 0\n");
  t.file("/mem/x/memory.kmem.usage_in_bytes", "917504\n");
  t.file("/meminfo", "MemTotal: 2048 kB\n");
  cg::Hierarchy h(t.root + "/mem", cg::Version::V1);
  auto in = read_inputs(h, "/x", t.root + "/meminfo");
  REQUIRE(in.ok());
  REQUIRE(in->levels.size() == 2);
  CHECK(in->levels[0].limit_bytes == 67108864);
  CHECK(in->levels[1].limit_bytes == kUnlimited);
  REQUIRE(in->v1_kmem_bytes.has_value());
  CHECK(*in->v1_kmem_bytes == 917504);
  // a machine smaller than the limit: machine memory wins
  auto b = compute(*in, {});
  CHECK(b.limit_source == "machine");
  CHECK(b.effective_limit_bytes == 2048 * 1024);
  CHECK_FALSE(read_inputs(h, "/missing", t.root + "/meminfo").ok());
}

TEST_CASE("the JSON names every component in bytes", "[gomemlimit]") {
  CalcInput in;
  in.version = cg::Version::V2;
  in.levels = {{"/a", 64ull << 20}};
  in.machine_bytes = 1ull << 34;
  in.stat = {{"kernel", 3 << 20}, {"pagetables", 1 << 20}, {"sock", 1 << 20}};
  in.ebpf_bytes = 1 << 20;
  auto j = to_json(compute(in, {}), "/a", 42);
  for (const char* k : {"gomemlimit_bytes", "effective_limit_bytes", "ebpf_bytes", "kernel_bytes", "pagetables_bytes",
                        "sock_bytes", "shmem_bytes", "cache_reserve_bytes", "margin_bytes", "nonheap_bytes",
                        "limit_source", "cgroup", "cgroup_id", "ratio", "margin_fraction"})
    CHECK(j.contains(k));
  CHECK(j["limit_source"] == "cgroup");
  CHECK(j["kernel_bytes"] == 1 << 20);  // 3 - page tables 1 - eBPF 1
  CHECK(j["gomemlimit_bytes"].get<uint64_t>() > 0);
  in.stat["kernel"] = 64ull << 20;
  auto e = to_json(compute(in, {}), "/a", 42);
  CHECK(e["gomemlimit_bytes"].is_null());
  CHECK(e.contains("error"));
}

TEST_CASE("hint_for takes the subtree's eBPF bytes from a bpf-mem table", "[gomemlimit]") {
  TempTree t;
  t.file("/cg/memory.stat", "anon 1\n");
  t.file("/cg/a/memory.max", "67108864\n");
  t.file("/cg/a/memory.high", "max\n");
  t.file("/cg/a/memory.stat", "kernel 6291456\npagetables 1048576\n");
  t.file("/meminfo", "MemTotal: 1000000 kB\n");
  cg::Hierarchy h(t.root + "/cg", cg::Version::V2);
  bpfmem::Table table;
  table.map_source = "iter/bpf_map";
  auto add = [&](uint32_t id, const std::string& cg, uint64_t bytes) {
    bpfmem::MapInfo m;
    m.id = id, m.cgroup_known = true, m.cgroup = cg, m.memlock_bytes = bytes;
    table.maps.push_back(m);
  };
  add(1, "/a", 1 << 20);
  add(2, "/a/b", 2 << 20);
  add(3, "/ab", 4 << 20);  // a sibling: not /a's
  add(4, "/", 8 << 20);
  auto r = hint_for(h, "/a", &table, {});
  REQUIRE(r.ok());
  CHECK(r->ebpf_measured);
  CHECK(r->ebpf_maps == 2);
  CHECK(r->breakdown.ebpf_bytes == 3 << 20);
  CHECK(r->breakdown.kernel_bytes == (6 << 20) - (1 << 20) - (3 << 20));  // kernel - page tables - eBPF
  CHECK(r->breakdown.ok);
  // no table, or one without cgroups: eBPF unmeasured, said so
  auto none = hint_for(h, "/a", nullptr, {});
  REQUIRE(none.ok());
  CHECK_FALSE(none->ebpf_measured);
  CHECK(none->breakdown.ebpf_bytes == 0);
  // eBPF maps are kernel memory: while "kernel" covers them, measuring them
  // moves bytes from kernel_bytes to ebpf_bytes and leaves the hint alone ...
  CHECK(none->breakdown.kernel_bytes == (5 << 20));
  CHECK(none->breakdown.gomemlimit_bytes == r->breakdown.gomemlimit_bytes);
  // ... and lowers it when the maps' footprint is larger than what "kernel" shows.
  add(5, "/a/b/c", 8 << 20);
  auto big = hint_for(h, "/a", &table, {});
  CHECK(big->breakdown.kernel_bytes == 0);
  CHECK(big->breakdown.ebpf_bytes == 11 << 20);
  CHECK(big->breakdown.gomemlimit_bytes < r->breakdown.gomemlimit_bytes);
  table.map_source = "map ids";
  CHECK_FALSE(hint_for(h, "/a", &table, {})->ebpf_measured);
}
