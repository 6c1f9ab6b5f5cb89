// The GOMEMLIMIT calculator on tables of inputs: every component, the
// ancestors' minimum, the machine fallback, and no hint at or below zero.
#include <catch2/catch.hpp>

#include <cmath>

#include "gomemlimit/calc.hpp"
#include "util/units.hpp"

using namespace ow;
using namespace ow::gomemlimit;

namespace {
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t GiB = 1ull << 30;

CalcInput v2_input(uint64_t limit, std::map<std::string, uint64_t> stat = {}, uint64_t ebpf = 0) {
  CalcInput in;
  in.version = cg::Version::V2;
  in.levels = {{"/k/pod/c", limit}, {"/k/pod", kUnlimited}, {"/k", kUnlimited}, {"/", kUnlimited}};
  in.machine_bytes = 16 * GiB;
  in.stat = std::move(stat);
  in.ebpf_bytes = ebpf;
  return in;
}
}  // namespace

TEST_CASE("hint formula: (limit - non-heap - 5% margin) x 80%", "[gomemlimit]") {
  // 512 MiB container, nothing else charged: the baseline.
  auto b = compute(v2_input(512 * MiB), {});
  REQUIRE(b.ok);
  CHECK(b.effective_limit_bytes == 512 * MiB);
  CHECK(b.limit_source == "cgroup");
  CHECK(b.limit_cgroup == "/k/pod/c");
  CHECK(b.margin_bytes == 512 * MiB / 20);
  CHECK(b.nonheap_bytes == 0);
  CHECK(b.gomemlimit_bytes == static_cast<uint64_t>((512 * MiB - 512 * MiB / 20) * 0.8));
  // ratio and margin are parameters
  auto c = compute(v2_input(512 * MiB), {.margin_fraction = 0, .ratio = 1, .cache_fraction = 0});
  CHECK(c.gomemlimit_bytes == 512 * MiB);
}

TEST_CASE("v2 components come from memory.stat, eBPF counted once", "[gomemlimit]") {
  struct Row {
    const char* what;
    std::map<std::string, uint64_t> stat;
    uint64_t ebpf;
    uint64_t kernel, pagetables, sock, shmem, cache_reserve;
  };
  std::vector<Row> rows = {
      {"empty stat", {}, 0, 0, 0, 0, 0, 0},
      {"kernel minus page tables",
       {{"kernel", 30 * MiB}, {"pagetables", 4 * MiB}, {"sock", 2 * MiB}},
       0, 26 * MiB, 4 * MiB, 2 * MiB, 0, 0},
      {"eBPF inside kernel is not counted twice",
       {{"kernel", 30 * MiB}, {"pagetables", 4 * MiB}},
       10 * MiB, 16 * MiB, 4 * MiB, 0, 0, 0},
      {"eBPF larger than kernel: kernel floors at 0",
       {{"kernel", 5 * MiB}, {"pagetables", 1 * MiB}},
       10 * MiB, 0, 1 * MiB, 0, 0, 0},
      {"sec_pagetables join pagetables",
       {{"kernel", 10 * MiB}, {"pagetables", 1 * MiB}, {"sec_pagetables", 1 * MiB}},
       0, 8 * MiB, 2 * MiB, 0, 0, 0},
      {"pre-5.18: no 'kernel' key",
       {{"kernel_stack", 1 * MiB}, {"slab", 6 * MiB}, {"percpu", 1 * MiB}, {"vmalloc", 2 * MiB}, {"pagetables", 3 * MiB}},
       4 * MiB, 6 * MiB, 3 * MiB, 0, 0, 0},
      {"file: shmem whole, dirty+writeback whole, 10% of the clean rest",
       {{"file", 100 * MiB}, {"shmem", 20 * MiB}, {"file_dirty", 5 * MiB}, {"file_writeback", 5 * MiB}},
       0, 0, 0, 0, 20 * MiB, 10 * MiB + 7 * MiB},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    auto b = compute(v2_input(1 * GiB, r.stat, r.ebpf), {});
    REQUIRE(b.ok);
    CHECK(b.ebpf_bytes == r.ebpf);
    CHECK(b.kernel_bytes == r.kernel);
    CHECK(b.pagetables_bytes == r.pagetables);
    CHECK(b.sock_bytes == r.sock);
    CHECK(b.shmem_bytes == r.shmem);
    CHECK(b.cache_reserve_bytes == r.cache_reserve);
    uint64_t nonheap = r.ebpf + r.kernel + r.pagetables + r.sock + r.shmem + r.cache_reserve;
    CHECK(b.nonheap_bytes == nonheap);
    CHECK(b.available_bytes == static_cast<int64_t>(1 * GiB - nonheap - b.margin_bytes));
    CHECK(b.gomemlimit_bytes == static_cast<uint64_t>(static_cast<double>(1 * GiB - nonheap - b.margin_bytes) * 0.8));
  }
}

TEST_CASE("v1 components: kmem minus eBPF, total_* keys, no sock", "[gomemlimit]") {
  CalcInput in;
  in.version = cg::Version::V1;
  in.levels = {{"/a/b", 256 * MiB}, {"/a", kUnlimited}, {"/", kUnlimited}};
  in.machine_bytes = 8 * GiB;
  in.stat = {{"cache", 1}, {"total_cache", 40 * MiB}, {"total_shmem", 8 * MiB}, {"total_dirty", 2 * MiB},
             {"total_writeback", 0}, {"total_rss", 100 * MiB}, {"sock", 99 * MiB}};
  in.v1_kmem_bytes = 12 * MiB;
  in.ebpf_bytes = 5 * MiB;
  auto b = compute(in, {.margin_fraction = 0.05, .ratio = 0.8, .cache_fraction = 0.5});
  REQUIRE(b.ok);
  CHECK(b.kernel_bytes == 7 * MiB);
  CHECK(b.pagetables_bytes == 0);
  CHECK(b.sock_bytes == 0);  // v1 charges sockets to kmem.tcp, not to the limit
  CHECK(b.shmem_bytes == 8 * MiB);
  CHECK(b.file_bytes == 40 * MiB);
  CHECK(b.cache_reserve_bytes == 2 * MiB + 15 * MiB);  // dirty + half of (40 - 8 - 2)
  CHECK(b.nonheap_bytes == 5 * MiB + 7 * MiB + 8 * MiB + 17 * MiB);
  // without the kmem file, kernel memory is unknown and says so
  in.v1_kmem_bytes.reset();
  auto c = compute(in, {});
  CHECK(c.kernel_bytes == 0);
  bool noted = false;
  for (const auto& n : c.notes) noted = noted || n.find("kmem") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("the effective limit is the minimum over the cgroup and its ancestors", "[gomemlimit]") {
  struct Row {
    std::vector<uint64_t> limits;  // cgroup first
    uint64_t machine;
    uint64_t want;
    const char* source;
    const char* cgroup;
  };
  std::vector<Row> rows = {
      {{512 * MiB, kUnlimited, kUnlimited}, 16 * GiB, 512 * MiB, "cgroup", "/c0"},
      {{kUnlimited, 256 * MiB, kUnlimited}, 16 * GiB, 256 * MiB, "ancestor", "/c1"},
      {{1 * GiB, 768 * MiB, 2 * GiB}, 16 * GiB, 768 * MiB, "ancestor", "/c1"},
      {{kUnlimited, 1 * GiB, 128 * MiB}, 16 * GiB, 128 * MiB, "ancestor", "/c2"},
      {{kUnlimited, kUnlimited, kUnlimited}, 16 * GiB, 16 * GiB, "machine", ""},
      {{64 * GiB, kUnlimited}, 16 * GiB, 16 * GiB, "machine", ""},  // a limit above RAM is no limit
      {{256 * MiB, 256 * MiB}, 16 * GiB, 256 * MiB, "cgroup", "/c0"},  // ties: the nearest
  };
  for (const auto& r : rows) {
    CalcInput in;
    in.version = cg::Version::V2;
    for (size_t i = 0; i < r.limits.size(); ++i) in.levels.push_back({"/c" + std::to_string(i), r.limits[i]});
    in.machine_bytes = r.machine;
    auto b = compute(in, {});
    INFO(r.want << " " << r.source);
    REQUIRE(b.ok);
    CHECK(b.effective_limit_bytes == r.want);
    CHECK(b.limit_source == r.source);
    CHECK(b.limit_cgroup == r.cgroup);
    CHECK(b.machine_bytes == r.machine);
  }
}

TEST_CASE("no positive hint is an error, never a negative or wrapped value", "[gomemlimit]") {
  // 64 MiB limit: 60 MiB of kernel memory and the 3.2 MiB margin leave 0.8 MiB (a hint);
  // 63 MiB leave less than nothing (an error).
  auto ok = compute(v2_input(64 * MiB, {{"kernel", 60 * MiB}}, 0), {});
  REQUIRE(ok.ok);
  CHECK(ok.gomemlimit_bytes == static_cast<uint64_t>((4 * MiB - ok.margin_bytes) * 0.8));

  auto bad = compute(v2_input(64 * MiB, {{"kernel", 63 * MiB}}, 0), {});
  CHECK_FALSE(bad.ok);
  CHECK(bad.gomemlimit_bytes == 0);
  CHECK(bad.available_bytes < 0);
  CHECK(bad.error.find("no positive GOMEMLIMIT") != std::string::npos);

  // non-heap far above the limit: available is negative, not a huge unsigned number
  auto worse = compute(v2_input(16 * MiB, {{"kernel", 1 * GiB}, {"sock", 1 * GiB}}, 2 * GiB), {});
  CHECK_FALSE(worse.ok);
  CHECK(worse.available_bytes < -static_cast<int64_t>(2 * GiB));
  CHECK(worse.gomemlimit_bytes == 0);

  // exactly zero left is an error too
  auto zero = compute(v2_input(100 * MiB, {{"kernel", 100 * MiB}}, 0), {.margin_fraction = 0, .ratio = 1});
  CHECK_FALSE(zero.ok);

  // unknown machine memory and no limit: nothing to compute from
  CalcInput none;
  none.levels = {{"/", kUnlimited}};
  CHECK_FALSE(compute(none, {}).ok);
}

TEST_CASE("parameters are validated", "[gomemlimit]") {
  CHECK(validate({}).ok());
  CHECK(validate({.margin_fraction = 0, .ratio = 1, .cache_fraction = 0}).ok());
  CHECK_FALSE(validate({.margin_fraction = -0.1}).ok());
  CHECK_FALSE(validate({.margin_fraction = 1.0}).ok());
  CHECK_FALSE(validate({.margin_fraction = 0.05, .ratio = 0}).ok());
  CHECK_FALSE(validate({.margin_fraction = 0.05, .ratio = 1.5}).ok());
  CHECK_FALSE(validate({.margin_fraction = 0.05, .ratio = 0.8, .cache_fraction = 2}).ok());
  CHECK_FALSE(validate({.margin_fraction = std::nan(""), .ratio = 0.8}).ok());
  CHECK(validate({.margin_fraction = 1.5}).error().message().find("1.5") != std::string::npos);
}
