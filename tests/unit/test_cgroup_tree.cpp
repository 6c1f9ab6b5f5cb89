// Readers and writers on a temporary directory tree shaped like cgroup v2
// (the real v1 hierarchy is exercised by the integration tier).
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cgroup/hierarchy.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

using namespace ow;
namespace fs = std::filesystem;

namespace {
struct V2Tree {
  fs::path root;
  V2Tree() {
    char tmpl[] = "/tmp/owtest-v2-XXXXXX";
    root = ::mkdtemp(tmpl);
    fs::create_directories(root / "a" / "b");
    put("a/memory.current", "1048576\n");
    put("a/memory.max", "max\n");
    put("a/memory.peak", "2097152\n");
    put("a/memory.high", "max\n");
    put("a/memory.events", "low 0\nhigh 5\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n");
    put("a/memory.stat", "anon 4096\nfile 8192\nkernel 100\n");
    put("a/cgroup.procs", "12\n34\n");
    put("a/b/memory.max", "67108864\n");
    put("cgroup.subtree_control", "memory\n");
  }
  ~V2Tree() { fs::remove_all(root); }
  void put(const std::string& rel, const std::string& s) { REQUIRE(write_file(root / rel, s)); }
  static bool write_file(const fs::path& p, const std::string& s) {
    FILE* f = std::fopen(p.c_str(), "w");
    if (!f) return false;
    std::fputs(s.c_str(), f);
    return std::fclose(f) == 0;
  }
};
}  // namespace

TEST_CASE("v2 reader on a temp tree", "[cgroup]") {
  V2Tree t;
  cg::Hierarchy h(t.root.string(), cg::Version::V2);
  auto m = h.read("/a");
  REQUIRE(m.ok());
  CHECK(m->usage_bytes == 1048576);
  CHECK(m->limit_bytes == kUnlimited);
  CHECK(m->peak_bytes == 2097152);
  CHECK(m->events.high == 5);
  CHECK(m->events.max == 7);
  CHECK(m->events.oom_kill == 1);
  CHECK(*h.limit("/a/b") == 67108864);
  CHECK(h.stat("/a")->at("file") == 8192);
  CHECK(h.procs("/a")->size() == 2);
}

TEST_CASE("v2 writer writes the v2 file names", "[cgroup]") {
  V2Tree t;
  cg::Hierarchy h(t.root.string(), cg::Version::V2);
  REQUIRE(h.set_limit("/a/b", 128ull << 20).ok());
  CHECK(*read_text((t.root / "a/b/memory.max").string()) == "134217728");
  REQUIRE(h.set_limit("/a/b", kUnlimited).ok());
  CHECK(*read_text((t.root / "a/b/memory.max").string()) == "max");
  CHECK(h.set_high("/a", 1 << 20).ok());
  CHECK_FALSE(h.set_oom_kill_disable("/a", true).ok());
}

TEST_CASE("resolve accepts relative and absolute paths and rejects unknown ones", "[cgroup]") {
  V2Tree t;
  cg::Hierarchy h(t.root.string(), cg::Version::V2);
  CHECK(*h.resolve("/a/b") == "/a/b");
  CHECK(*h.resolve("a/b/") == "/a/b");
  CHECK(*h.resolve((t.root / "a").string()) == "/a");
  CHECK(*h.resolve(t.root.string()) == "/");
  auto bad = h.resolve("/nope");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("unknown cgroup /nope") != std::string::npos);
  CHECK_FALSE(h.resolve("/a/../..").ok());
}

TEST_CASE("ids are directory inodes and map back to paths", "[cgroup]") {
  V2Tree t;
  cg::Hierarchy h(t.root.string(), cg::Version::V2);
  struct stat st;
  REQUIRE(::stat((t.root / "a/b").c_str(), &st) == 0);
  CHECK(*h.id_of("/a/b") == st.st_ino);
  CHECK(*h.path_of(st.st_ino) == "/a/b");
  CHECK(h.walk().size() == 3);
  CHECK_FALSE(h.path_of(1).ok());
}

TEST_CASE("missing files are errors with the path", "[cgroup]") {
  V2Tree t;
  cg::Hierarchy h(t.root.string(), cg::Version::V2);
  auto r = h.usage("/a/b");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("memory.current") != std::string::npos);
}

TEST_CASE("child_dirs: the child directories in name order, with their inode numbers", "[cgroup]") {
  V2Tree t;
  fs::create_directories(t.root / "a" / "c");
  fs::create_directories(t.root / "a" / ".hidden");
  fs::create_symlink(t.root / "a" / "b", t.root / "a" / "link-to-b");  // a symlink is no child cgroup
  auto kids = cg::child_dirs((t.root / "a").string());
  REQUIRE(kids.size() == 2);
  CHECK(kids[0].name == "b");
  CHECK(kids[1].name == "c");
  struct stat st;
  REQUIRE(::stat((t.root / "a" / "b").c_str(), &st) == 0);
  CHECK(kids[0].id == static_cast<uint64_t>(st.st_ino));
  CHECK(cg::child_dirs((t.root / "gone").string()).empty());
  // The walk takes its ids from the same listing.
  cg::Hierarchy h(t.root.string(), cg::Version::V2);
  auto all = h.walk("/a");
  CHECK(all.size() == 3);  // /a, /a/b, /a/c
  CHECK(all[kids[1].id] == "/a/c");
}
