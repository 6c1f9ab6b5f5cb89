// Totals of the eBPF memory table: per process (shared objects count for
// each holder), per charged cgroup, per subtree; the JSON keys and the
// "no process holds it" wording.
#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include "bpfmem/table.hpp"

using namespace ow::bpfmem;

namespace {
MapInfo map(uint32_t id, uint64_t bytes, std::string cgroup, uint64_t cgid, std::vector<Holder> holders = {}) {
  MapInfo m;
  m.id = id;
  m.type = BPF_MAP_TYPE_HASH;
  m.name = "m" + std::to_string(id);
  m.memlock_bytes = bytes;
  m.cgroup_known = true;
  m.cgroup = std::move(cgroup);
  m.cgroup_id = cgid;
  m.usercnt = 1;
  m.holders = std::move(holders);
  return m;
}

Table sample() {
  Table t;
  t.map_source = "iter/bpf_map";
  Holder agent{100, "agent", 3, false}, agent2{100, "agent", 9, false}, tool{200, "bpftool", 4, false};
  t.maps.push_back(map(1, 1000, "/a", 11, {agent, agent2}));  // one process, two fds: counted once
  t.maps.push_back(map(2, 2000, "/a/b", 12, {agent, tool}));   // shared by two processes
  t.maps.push_back(map(3, 4000, "/ab", 13));                   // sibling whose name starts like /a
  t.maps.push_back(map(4, 8000, "", 14));                      // charged to a removed cgroup
  t.maps.back().pinned = {"/sys/fs/bpf/orphan"};
  ProgInfo p;
  p.id = 50;
  p.type = BPF_PROG_TYPE_KPROBE;
  p.name = "prog";
  p.memlock_bytes = 500;
  p.holders = {{200, "bpftool", 5, true}};
  p.map_ids = {2};
  t.progs.push_back(p);
  return t;
}
}  // namespace

TEST_CASE("totals per process, per cgroup and per subtree", "[bpfmem]") {
  auto t = sample();
  CHECK(map_bytes(t) == 15000);
  CHECK(prog_bytes(t) == 500);
  CHECK(total_bytes(t) == 15500);

  auto procs = by_process(t);
  REQUIRE(procs.size() == 2);
  CHECK(procs[0].pid == 100);  // 1000 (two fds, counted once) + 2000, largest first
  CHECK(procs[0].bytes == 3000);
  CHECK(procs[0].maps == 2);
  CHECK(procs[0].progs == 0);
  CHECK(procs[1].pid == 200);  // 2000 (shared) + 500
  CHECK(procs[1].bytes == 2500);
  CHECK(procs[1].maps == 1);
  CHECK(procs[1].progs == 1);

  auto cgs = by_cgroup(t);
  REQUIRE(cgs.size() == 4);
  CHECK(cgs[0].cgroup_id == 14);  // largest first
  CHECK(cgs[0].cgroup.empty());

  CHECK(subtree_map_bytes(t, "/a") == 3000);   // /a and /a/b, not /ab
  CHECK(subtree_map_bytes(t, "/a/b") == 2000);
  CHECK(subtree_map_bytes(t, "/ab") == 4000);
  CHECK(subtree_map_bytes(t, "/") == 7000);    // removed cgroups have no path
  CHECK(subtree_map_bytes(t, "/none") == 0);
}

TEST_CASE("held_by says who keeps an object alive", "[bpfmem]") {
  CHECK(held_by({}, {"/sys/fs/bpf/x"}, {}) == "no process holds it (pinned /sys/fs/bpf/x)");
  CHECK(held_by({}, {}, {7, 8}) == "no process holds it (used by prog 7,8)");
  CHECK(held_by({}, {}, {}) == "no process holds it");
  CHECK(held_by({}, {}, {}, true).find("kernel references only") != std::string::npos);
  CHECK(held_by({{12, "bpftool", 3, false}}, {"/p"}, {}) == "pid 12 (bpftool) fd 3; pinned /p");
  CHECK(held_by({{12, "agent", 4, true}}, {}, {}) == "pid 12 (agent) fd 4 via link");
}

TEST_CASE("JSON has the documented shape", "[bpfmem]") {
  auto j = to_json(sample());
  for (const char* k : {"maps", "programs", "by_process", "by_cgroup", "total_bytes"}) CHECK(j.contains(k));
  CHECK(j["total_bytes"] == 15500);
  REQUIRE(j["maps"].size() == 4);
  auto m = j["maps"][3];
  CHECK(m["id"] == 4);
  CHECK(m["type"] == "hash");
  CHECK(m["memlock_bytes"] == 8000);
  CHECK(m["cgroup_removed"] == true);
  CHECK(m["held_by"] == "no process holds it (pinned /sys/fs/bpf/orphan)");
  CHECK(j["maps"][1]["used_by_progs"].empty());  // filled by collect(), not here
  auto c = j["by_cgroup"][0];
  for (const char* k : {"cgroup", "cgroup_id", "bytes", "maps"}) CHECK(c.contains(k));
  CHECK(j["programs"][0]["type"] == "kprobe");
  CHECK(j["programs"][0]["holders"][0]["via_link"] == true);
  // without the iterator the cgroup is unknown: null, not a guess
  Table t;
  t.maps.push_back(map(5, 10, "", 0));
  t.maps[0].cgroup_known = false;
  auto u = to_json(t);
  CHECK(u["maps"][0]["cgroup"].is_null());
  CHECK(u["by_cgroup"].empty());
  auto lines = to_text(sample());
  bool orphan = false;
  for (const auto& l : lines) orphan = orphan || l.find("no process holds it") != std::string::npos;
  CHECK(orphan);
}
