// Root: `oomwatch gomemlimit` on real cgroups: the bare value, the machine
// fallback, no hint at or below zero, and publishing to the xattr, the file
// and the pinned BPF map (removed again by --unpublish).
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cgroup/scoped.hpp"
#include "helpers.hpp"
#include "oomwatch.h"
#include "util/fs.hpp"

using nlohmann::json;

namespace {
bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string xattr(const std::string& dir) {
  char buf[64];
  ssize_t n = ::getxattr(dir.c_str(), "user.oomwatch.gomemlimit", buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

uint64_t mem_total() {
  auto t = ow::read_text("/proc/meminfo").value();
  for (auto l : ow::split_lines(t)) {
    auto f = ow::split_ws(l);
    uint64_t v;
    if (f.size() >= 2 && f[0] == "MemTotal:" && ow::parse_u64(f[1], v)) return v * 1024;
  }
  return 0;
}
}  // namespace

TEST_CASE("gomemlimit prints one decimal value; no limit anywhere falls back to machine memory",
          "[integration][gomemlimit]") {
  auto cg = owtest::make_cgroup(ow::kUnlimited, "owtest-gml");
  auto plain = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg.path()});
  INFO(plain.err);
  REQUIRE(plain.exit_code == 0);
  std::string v(ow::trim(plain.out));
  CHECK(plain.out == v + "\n");  // one line, nothing else on stdout
  uint64_t bytes = 0;
  REQUIRE(ow::parse_u64(v, bytes));
  auto r = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", owtest::hierarchy().abs(cg.path()), "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  // Unlimited up to the root here (v1 host) and in the VM; a node whose own
  // slice is limited reports "ancestor" instead.
  if (j["limit_source"] == "machine") {
    CHECK(j["effective_limit_bytes"] == mem_total());
    CHECK(j["limit_cgroup"] == "");
  } else {
    CHECK(j["limit_source"] == "ancestor");
  }
  CHECK(j["cgroup"] == cg.path());
  CHECK(j["gomemlimit_bytes"].get<uint64_t>() < j["effective_limit_bytes"].get<uint64_t>());
  // the same hint both ways, give or take what the cgroup's kernel memory did in between
  CHECK(static_cast<double>(bytes) == Approx(j["gomemlimit_bytes"].get<double>()).epsilon(0.01));
}

TEST_CASE("a hint at or below zero is exit 1 with the figures, never a value", "[integration][gomemlimit]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(16ull << 20, "owtest-gml-full");
  // 12 MiB of tmpfs charged to the cgroup outlive the writer: shmem the Go heap cannot use.
  std::string shm = "/dev/shm/owtest-gml-" + std::to_string(::getpid());
  auto pid = ow::cg::spawn_in(h, cg.path(), {"sh", "-c", "head -c 12582912 /dev/zero > " + shm});
  REQUIRE(pid.ok());
  CHECK(ow::cg::wait_child(*pid).exit_code == 0);
  auto r = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg.path(), "--margin", "0.3"});
  auto rj = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg.path(), "--margin", "0.3", "--json"});
  auto ok = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg.path(), "--json"});
  ::unlink(shm.c_str());
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("no positive GOMEMLIMIT") != std::string::npos);
  CHECK(rj.exit_code == 1);
  auto j = json::parse(rj.out);
  CHECK(j["gomemlimit_bytes"].is_null());
  CHECK(j["shmem_bytes"].get<uint64_t>() >= (12ull << 20));
  CHECK(j["available_bytes"].get<int64_t>() <= 0);
  // the default 5 % margin still leaves a little: a small, positive hint
  REQUIRE(ok.exit_code == 0);
  auto o = json::parse(ok.out);
  CHECK(o["gomemlimit_bytes"].get<uint64_t>() > 0);
  CHECK(o["gomemlimit_bytes"].get<uint64_t>() < (4ull << 20));
}

TEST_CASE("--publish writes the xattr, the file and the pinned map; --unpublish removes them",
          "[integration][gomemlimit]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(64ull << 20, "owtest-gml-pub");
  std::string dir = h.abs(cg.path());
  uint64_t id = *h.id_of(cg.path());
  std::string file = "/run/oomwatch/gomemlimit/" + std::to_string(id);
  const std::string pin = "/sys/fs/bpf/oomwatch/gomemlimit";
  struct Unpublish {  // whatever happens below, nothing stays published
    std::string cg;
    ~Unpublish() {
      owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg, "--unpublish"});
      ::rmdir("/run/oomwatch");  // made by the publish above; only when empty (recreated on publish)
    }
  } guard{cg.path()};

  auto r = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg.path(), "--publish", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  uint64_t v = j["gomemlimit_bytes"];
  CHECK(j["published"]["xattr"] == true);
  CHECK(j["published"]["file"] == true);
  CHECK(j["published"]["bpf_map"] == true);
  CHECK(xattr(dir) == std::to_string(v));
  CHECK(ow::read_text(file).value_or("") == std::to_string(v) + "\n");
  int fd = bpf_obj_get(pin.c_str());
  REQUIRE(fd >= 0);
  __u64 key = id;
  ow_gomemlimit_hint hv{};
  CHECK(bpf_map_lookup_elem(fd, &key, &hv) == 0);
  ::close(fd);
  CHECK(hv.hint_bytes == v);
  CHECK(hv.effective_limit_bytes == 64ull << 20);
  CHECK(hv.ts_ns > 0);
  auto dump = owtest::run({"bpftool", "map", "dump", "pinned", pin});
  if (dump.exit_code == 127) {
    WARN("bpftool not installed (VM guest): pinned dump not checked");
  } else {
    CHECK(dump.exit_code == 0);
    CHECK(dump.out.find("hint_bytes") != std::string::npos);  // BTF makes it readable
    CHECK(dump.out.find(std::to_string(v)) != std::string::npos);
  }

  auto u = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg.path(), "--unpublish"});
  INFO(u.err);
  CHECK(u.exit_code == 0);
  CHECK(xattr(dir).empty());
  CHECK_FALSE(exists(file));
  int fd2 = bpf_obj_get(pin.c_str());
  if (fd2 >= 0) {  // another publisher's hints keep the map pinned
    CHECK(bpf_map_lookup_elem(fd2, &key, &hv) != 0);
    ::close(fd2);
  }
}
