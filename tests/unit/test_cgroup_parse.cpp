#include <catch2/catch.hpp>

#include "cgroup/parse.hpp"
#include "util/units.hpp"

using namespace ow::cg;

namespace {
// This machine: memory on v1, v2 mounted at /sys/fs/cgroup/unified without memory.
const char* kHybridMounts =
    "proc /proc proc rw,nosuid 0 0\n"
    "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
const char* kHybridSelf =
    "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
const char* kV2Mounts = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n";
const char* kV1Mounts =
    "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,memory 0 0\n";
}  // namespace

TEST_CASE("hybrid layout: memory on v1 even though v2 is mounted", "[cgroup]") {
  auto l = derive_layout(parse_cgroup_mounts(kHybridMounts), parse_proc_cgroup(kHybridSelf), std::string("cpu pids\n"));
  CHECK(l.kind == "hybrid");
  CHECK(l.memory_version == Version::V1);
  CHECK(l.memory_mount == "/sys/fs/cgroup/memory");
  CHECK(l.unified_mount == "/sys/fs/cgroup/unified");
  CHECK(l.self_path == "/process_api/abc");
}

TEST_CASE("pure v2 layout uses the 0:: line", "[cgroup]") {
  auto l = derive_layout(parse_cgroup_mounts(kV2Mounts), parse_proc_cgroup("0::/system.slice/x.service\n"),
                         std::string("cpuset cpu io memory pids\n"));
  CHECK(l.kind == "v2");
  CHECK(l.memory_version == Version::V2);
  CHECK(l.memory_mount == "/sys/fs/cgroup");
  CHECK(l.self_path == "/system.slice/x.service");
}

TEST_CASE("v2 without the memory controller is no memory hierarchy", "[cgroup]") {
  auto l = derive_layout(parse_cgroup_mounts(kV2Mounts), parse_proc_cgroup("0::/\n"), std::string("cpu io\n"));
  CHECK(l.kind == "none");
  CHECK(l.memory_mount.empty());
}

TEST_CASE("pure v1 layout", "[cgroup]") {
  auto l = derive_layout(parse_cgroup_mounts(kV1Mounts), parse_proc_cgroup("5:memory:/k8s/pod1\n3:cpu,cpuacct:/\n"),
                         std::nullopt);
  CHECK(l.kind == "v1");
  CHECK(l.self_path == "/k8s/pod1");
}

TEST_CASE("mount points with escaped spaces are decoded", "[cgroup]") {
  auto m = parse_cgroup_mounts("cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n");
  REQUIRE(m.size() == 1);
  CHECK(m[0].path == "/mnt/my cg");
}

TEST_CASE("limits: max, v1 sentinel and numbers", "[cgroup]") {
  CHECK(*parse_limit("max\n") == ow::kUnlimited);
  CHECK(*parse_limit("9223372036854771712\n") == ow::kUnlimited);
  CHECK(*parse_limit("67108864\n") == 67108864);
  CHECK_FALSE(parse_limit("lots").ok());
}

TEST_CASE("flat keyed files", "[cgroup]") {
  auto kv = parse_flat_keyed("low 0\nhigh 3\nmax 10\noom 2\noom_kill 1\noom_group_kill 0\n");
  CHECK(kv["high"] == 3);
  CHECK(kv["oom_kill"] == 1);
  auto oc = parse_flat_keyed("oom_kill_disable 1\nunder_oom 0\noom_kill 4\n");
  CHECK(oc["oom_kill_disable"] == 1);
  CHECK(oc["oom_kill"] == 4);
}

TEST_CASE("/proc/self/cgroup: a hierarchy id that does not fit is skipped, never read as the v2 line", "[cgroup]") {
  auto v = parse_proc_cgroup("4294967296::/evil\n5:memory:/kubepods\n");
  REQUIRE(v.size() == 1);
  CHECK(v[0].path == "/kubepods");
}
