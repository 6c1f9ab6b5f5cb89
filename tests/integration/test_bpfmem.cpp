// Root: `oomwatch bpf-mem` on real maps. A map pinned from inside a test
// cgroup (its creator gone) is listed with that cgroup and its fdinfo
// footprint, and the cgroup's GOMEMLIMIT hint drops by that footprint.
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../bpf/test_bpfmem_map.hpp"
#include "bpfmem/fdinfo.hpp"
#include "helpers.hpp"
#include "util/fd.hpp"

using nlohmann::json;

namespace {
json bpf_mem() {
  auto r = owtest::run({owtest::oomwatch_bin(), "bpf-mem", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

const json* find_map(const json& j, uint64_t id) {
  for (const auto& m : j["maps"])
    if (m["id"] == id) return &m;
  return nullptr;
}

json hint(const std::string& cg, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg, "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = owtest::run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

int64_t hint_bytes(const json& j) { return j["gomemlimit_bytes"].get<int64_t>(); }
}  // namespace

TEST_CASE("bpf-mem lists a map pinned from inside a cgroup, charged there, and the hint drops by it",
          "[integration][bpfmem][gomemlimit]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(256ull << 20, "owtest-bpfmem");
  const std::vector<std::string> exact{"--ratio", "1", "--margin", "0", "--cache-fraction", "0"};
  auto before_exact = hint(cg.path(), exact);
  auto before = hint(cg.path());
  CHECK(before["ebpf_bytes"] == 0);

  owtest::PinGuard pin(owtest::unique_pin("bpfmem"));
  auto how = owtest::create_pinned_map_in(h, cg.path(), pin.path);
  auto fi = ow::bpfmem::FdInfo::parse(owtest::pinned_fdinfo(pin.path));
  REQUIRE(fi.u64("memlock").has_value());
  REQUIRE(fi.u64("map_id").has_value());
  uint64_t memlock = *fi.u64("memlock"), id = *fi.u64("map_id");
  INFO("map " << id << " made with " << how << ", fdinfo memlock " << memlock);
  CHECK(memlock >= 4096ull * 1024);  // 4096 values of 1 KiB, at least

  auto j = bpf_mem();
  const json* m = find_map(j, id);
  REQUIRE(m);
  CHECK((*m)["name"] == "owtestmap");
  CHECK((*m)["type"] == "hash");
  CHECK((*m)["key_size"] == 4);
  CHECK((*m)["value_size"] == 1024);
  CHECK((*m)["max_entries"] == 4096);
  CHECK((*m)["memlock_bytes"] == memlock);
  CHECK((*m)["cgroup"] == cg.path());
  CHECK((*m)["cgroup_id"] == *h.id_of(cg.path()));
  CHECK((*m)["holders"].empty());
  CHECK((*m)["held_by"].get<std::string>().rfind("no process holds it", 0) == 0);
  CHECK(std::find((*m)["pinned"].begin(), (*m)["pinned"].end(), pin.path) != (*m)["pinned"].end());
  bool in_cgroup_total = false;
  for (const auto& c : j["by_cgroup"])
    if (c["cgroup"] == cg.path()) {
      in_cgroup_total = true;
      CHECK(c["bytes"].get<uint64_t>() >= memlock);
      CHECK(c["maps"].get<int>() >= 1);
    }
  CHECK(in_cgroup_total);
  CHECK(j["total_bytes"].get<uint64_t>() >= memlock);

  // The hint: eBPF bytes of the subtree include the map, and the hint
  // drops by its footprint (times the ratio with the default parameters).
  auto after_exact = hint(cg.path(), exact);
  auto after = hint(cg.path());
  CHECK(after["ebpf_bytes"].get<uint64_t>() >= memlock);
  CHECK(after["ebpf_source"] == "iter/bpf_map");
  int64_t drop_exact = hint_bytes(before_exact) - hint_bytes(after_exact);
  int64_t drop = hint_bytes(before) - hint_bytes(after);
  WARN("map footprint " << memlock << " B; hint " << hint_bytes(before) << " -> " << hint_bytes(after) << " (drop "
                        << drop << "); ratio 1, margin 0: drop " << drop_exact);
  // Other kernel memory of the short-lived creator moves the figure a little.
  CHECK(drop_exact >= static_cast<int64_t>(memlock * 95 / 100));
  CHECK(drop_exact <= static_cast<int64_t>(memlock + (512 << 10)));
  CHECK(drop >= static_cast<int64_t>(memlock * 8 / 10 * 95 / 100));
  CHECK(drop <= static_cast<int64_t>(memlock * 8 / 10 + (512 << 10)));

  auto text = owtest::run({owtest::oomwatch_bin(), "bpf-mem"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("owtestmap") != std::string::npos);
  CHECK(text.out.find("no process holds it (pinned " + pin.path) != std::string::npos);

  // Unpinned: freed, gone from the table (the kernel frees maps after an RCU grace period).
  ::unlink(pin.path.c_str());
  CHECK(owtest::wait_for([&] { return find_map(bpf_mem(), id) == nullptr; }, 10000));
}

TEST_CASE("bpf-mem names the process holding a map and a program", "[integration][bpfmem]") {
  ow::UniqueFd m(bpf_map_create(BPF_MAP_TYPE_ARRAY, "owheldmap", 4, 4096, 256, nullptr));
  REQUIRE(m.valid());
  const struct bpf_insn ret0[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0}, {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  ow::UniqueFd p(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "owheldprog", "GPL", ret0, 2, nullptr));
  REQUIRE(p.valid());
  auto mi = ow::bpfmem::FdInfo::parse(ow::read_text("/proc/self/fdinfo/" + std::to_string(m.get())).value());
  auto pi = ow::bpfmem::FdInfo::parse(ow::read_text("/proc/self/fdinfo/" + std::to_string(p.get())).value());
  uint64_t map_id = *mi.u64("map_id"), prog_id = *pi.u64("prog_id");

  auto j = bpf_mem();
  const json* jm = find_map(j, map_id);
  REQUIRE(jm);
  CHECK((*jm)["memlock_bytes"] == *mi.u64("memlock"));
  REQUIRE((*jm)["holders"].size() == 1);
  CHECK((*jm)["holders"][0]["pid"] == ::getpid());
  CHECK((*jm)["holders"][0]["fd"] == m.get());
  const json* jp = nullptr;
  for (const auto& x : j["programs"])
    if (x["id"] == prog_id) jp = &x;
  REQUIRE(jp);
  CHECK((*jp)["name"] == "owheldprog");
  CHECK((*jp)["type"] == "socket_filter");
  CHECK((*jp)["memlock_bytes"] == *pi.u64("memlock"));
  CHECK((*jp)["holders"][0]["pid"] == ::getpid());
  bool me = false;
  for (const auto& x : j["by_process"])
    if (x["pid"] == ::getpid()) {
      me = true;
      CHECK(x["bytes"].get<uint64_t>() >= *mi.u64("memlock") + *pi.u64("memlock"));
      CHECK(x["maps"].get<int>() >= 1);
      CHECK(x["programs"].get<int>() >= 1);
    }
  CHECK(me);
}
