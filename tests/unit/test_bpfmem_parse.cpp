// Parsers behind `oomwatch bpf-mem`, on literal text and a fake /proc tree:
// fdinfo, fd link targets, the holders scan, iterator records, ring records.
#include <catch2/catch.hpp>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "bpfmem/events.hpp"
#include "bpfmem/fdinfo.hpp"
#include "bpfmem/holders.hpp"
#include "bpfmem/kernel.hpp"
#include "util/fs.hpp"

using namespace ow;
using namespace ow::bpfmem;

namespace {
// Literal fdinfo of a map and a program as kernel 6.18 prints them.
const char* kMapFdinfo =
    "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t2061\nmap_type:\t1\nkey_size:\t4\nvalue_size:\t1024\n"
    "max_entries:\t4096\nmap_flags:\t0x0\nmap_extra:\t0x0\nmemlock:\t4492288\nmap_id:\t645\nfrozen:\t0\n";
const char* kProgFdinfo =
    "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t2061\nprog_type:\t1\nprog_jited:\t1\n"
    "prog_tag:\ta04f5eef06a7f555\nmemlock:\t4096\nprog_id:\t77\nrun_time_ns:\t0\nrun_cnt:\t0\n"
    "recursion_misses:\t0\nverified_insns:\t2\n";
const char* kLinkFdinfo =
    "pos:\t0\nflags:\t02000000\nmnt_id:\t15\nino:\t2061\nlink_type:\ttracing\nlink_id:\t9\n"
    "prog_tag:\ta04f5eef06a7f555\nprog_id:\t78\n";

struct FakeProc {
  std::string root;
  FakeProc() {
    char tmpl[] = "/tmp/owtest-proc-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~FakeProc() { (void)!std::system(("rm -rf " + root).c_str()); }
  void fd(int pid, int fd, const std::string& target, const std::string& fdinfo) {
    std::string base = root + "/" + std::to_string(pid);
    REQUIRE(mkdir_p(base + "/fd").ok());
    REQUIRE(mkdir_p(base + "/fdinfo").ok());
    REQUIRE(::symlink(target.c_str(), (base + "/fd/" + std::to_string(fd)).c_str()) == 0);
    write(base + "/fdinfo/" + std::to_string(fd), fdinfo);
  }
  void comm(int pid, const std::string& c) { write(root + "/" + std::to_string(pid) + "/comm", c + "\n"); }
  void write(const std::string& p, const std::string& text) {
    FILE* f = std::fopen(p.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
};
}  // namespace

TEST_CASE("fdinfo of a map and a program", "[bpfmem]") {
  auto m = FdInfo::parse(kMapFdinfo);
  CHECK(m.u64("memlock") == 4492288u);
  CHECK(m.u64("map_id") == 645u);
  CHECK(m.u64("key_size") == 4u);
  CHECK(m.u64("map_flags") == 0u);  // hex
  CHECK_FALSE(m.u64("prog_id").has_value());
  auto p = FdInfo::parse(kProgFdinfo);
  CHECK(p.u64("prog_id") == 77u);
  CHECK(p.u64("memlock") == 4096u);
  CHECK(p.str("prog_tag") == "a04f5eef06a7f555");
  CHECK_FALSE(p.u64("prog_tag").has_value());  // not a number
  auto odd = FdInfo::parse("garbage\n:\t1\nmemlock:\t\nmap_id: 0x1f\n");
  CHECK_FALSE(odd.u64("memlock").has_value());
  CHECK(odd.u64("map_id") == 31u);
}

TEST_CASE("fd link targets name the BPF object kind", "[bpfmem]") {
  CHECK(classify_fd_target("anon_inode:bpf-map") == FdKind::Map);
  CHECK(classify_fd_target("anon_inode:bpf-prog") == FdKind::Prog);
  CHECK(classify_fd_target("anon_inode:bpf_link") == FdKind::Link);
  CHECK(classify_fd_target("anon_inode:btf") == FdKind::NotBpf);
  CHECK(classify_fd_target("anon_inode:bpf_iter") == FdKind::Other);
  CHECK(classify_fd_target("/dev/null") == FdKind::NotBpf);
  CHECK(classify_fd_target("anon_inode:[eventpoll]") == FdKind::NotBpf);
}

TEST_CASE("holders scan of a fake /proc", "[bpfmem]") {
  FakeProc p;
  p.fd(100, 3, "anon_inode:bpf-map", kMapFdinfo);
  p.fd(100, 4, "anon_inode:bpf-prog", kProgFdinfo);
  p.fd(100, 5, "/dev/null", "pos:\t0\n");
  p.comm(100, "cilium-agent");
  p.fd(200, 7, "anon_inode:bpf-map", kMapFdinfo);  // a second holder of map 645
  p.fd(200, 8, "anon_inode:bpf_link", kLinkFdinfo);
  p.comm(200, "bpftool");
  p.fd(300, 3, "anon_inode:bpf-map", kMapFdinfo);  // "ourselves": skipped
  p.comm(300, "oomwatch");
  REQUIRE(mkdir_p(p.root + "/self").ok());  // not a pid directory
  auto h = scan_holders(p.root, 300);
  CHECK(h.processes_scanned == 2);
  REQUIRE(h.maps.count(645));
  const auto& m = h.maps.at(645);
  REQUIRE(m.size() == 2);
  CHECK(((m[0].pid == 100 && m[1].pid == 200) || (m[0].pid == 200 && m[1].pid == 100)));
  for (const auto& x : m) CHECK(x.comm == (x.pid == 100 ? "cilium-agent" : "bpftool"));
  REQUIRE(h.progs.count(77));
  CHECK(h.progs.at(77)[0].fd == 4);
  CHECK_FALSE(h.progs.at(77)[0].via_link);
  REQUIRE(h.progs.count(78));
  CHECK(h.progs.at(78)[0].via_link);
  CHECK(h.progs.at(78)[0].pid == 200);
}

TEST_CASE("iterator output is whole fixed-size records", "[bpfmem]") {
  ow_bpf_map_rec a{}, b{};
  a.id = 7, a.map_type = BPF_MAP_TYPE_HASH, a.key_size = 4, a.value_size = 1024, a.max_entries = 4096;
  a.memcg_id = 1426823;
  std::strcpy(a.name, "owtestmap");
  b.id = 9, b.flags = OW_BPF_MAP_UNCHARGED;
  std::string bytes(reinterpret_cast<const char*>(&a), sizeof a);
  bytes.append(reinterpret_cast<const char*>(&b), sizeof b);
  auto r = parse_map_records(bytes);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].id == 7);
  CHECK((*r)[0].memcg_id == 1426823);
  CHECK(std::string((*r)[0].name) == "owtestmap");
  CHECK((*r)[1].flags == OW_BPF_MAP_UNCHARGED);
  CHECK(parse_map_records("").value().empty());
  CHECK_FALSE(parse_map_records(bytes.substr(0, sizeof a + 10)).ok());
}

TEST_CASE("bpf object ring records decode by type", "[bpfmem]") {
  ow_bpf_obj_event e{};
  e.type = OW_EV_BPF_OBJ;
  e.cmd = BPF_MAP_CREATE;
  e.tgid = 42, e.pid = 43, e.ret = 5, e.obj_id = 645;
  e.obj_type = BPF_MAP_TYPE_HASH, e.key_size = 4, e.value_size = 1024, e.max_entries = 4096;
  std::strcpy(e.name, "owtestmap");
  std::strcpy(e.comm, "bpftool");
  auto d = decode_obj_event(&e, sizeof e);
  REQUIRE(d.ok());
  auto j = to_json(*d, "/a");
  CHECK(j["type"] == "bpf_map_create");
  CHECK(j["pid"] == 42);
  CHECK(j["fd"] == 5);
  CHECK(j["id"] == 645);
  CHECK(j["map_type"] == "hash");
  CHECK(j["name"] == "owtestmap");
  CHECK(j["comm"] == "bpftool");
  CHECK(j["cgroup"] == "/a");

  e.cmd = BPF_PROG_LOAD, e.ret = -EPERM, e.obj_id = 0, e.obj_type = BPF_PROG_TYPE_SOCKET_FILTER, e.insn_cnt = 2;
  auto p = to_json(decode_obj_event(&e, sizeof e).value(), "");
  CHECK(p["type"] == "bpf_prog_load");
  CHECK(p["prog_type"] == "socket_filter");
  CHECK(p["error"] == std::string(std::strerror(EPERM)));
  CHECK_FALSE(p.contains("fd"));

  CHECK_FALSE(decode_obj_event(&e, sizeof e - 1).ok());  // short
  ow_bpf_obj_event oom = e;
  oom.type = 1;  // an OOM-kill record (OW_EV_OOM_KILL) is not ours
  CHECK_FALSE(decode_obj_event(&oom, sizeof oom).ok());
  e.cmd = 99;
  CHECK_FALSE(decode_obj_event(&e, sizeof e).ok());
}
