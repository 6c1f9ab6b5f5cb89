// The cgroup births ABI record, the memory hierarchy's id, and the journal of a
// v1 managed parent whose new children inherit its oom_kill_disable 1.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstring>

#include "actuate/journal.hpp"
#include "agent_helpers.hpp"
#include "bpf/births.hpp"
#include "cgroup/parse.hpp"
#include "util/fs.hpp"

using namespace ow;

TEST_CASE("birth records decode; short and foreign ones are refused", "[births]") {
  ow_birth_event e{};
  e.type = OW_EV_CGROUP_BIRTH;
  e.depth = 1;
  e.cgroup_id = 42;
  e.parent_id = 7;
  e.root_id = 7;
  std::strcpy(e.name, "pod\x1b[31m");
  auto d = bpf::decode_birth(&e, sizeof e);
  REQUIRE(d.ok());
  CHECK(d->cgroup_id == 42);
  CHECK(bpf::birth_name(*d) == "pod\x1b[31m");
  CHECK_FALSE(bpf::decode_birth(&e, sizeof e - 1).ok());
  e.type = OW_EV_OOM_KILL;
  CHECK_FALSE(bpf::decode_birth(&e, sizeof e).ok());
  // A name of NAME_MAX bytes fills the field but its NUL: read whole.
  e.type = OW_EV_CGROUP_BIRTH;
  std::memset(e.name, 'x', sizeof e.name);
  e.name[255] = 0;
  CHECK(bpf::birth_name(*bpf::decode_birth(&e, sizeof e)).size() == 255);
}

TEST_CASE("the memory hierarchy's id comes from /proc/self/cgroup", "[births]") {
  CHECK(cg::memory_hierarchy_id("9:name=systemd:/\n4:memory:/a/b\n0::/\n") == 4u);
  CHECK(cg::memory_hierarchy_id("12:cpu,memory:/x\n") == 12u);
  CHECK(cg::memory_hierarchy_id("0::/user.slice\n") == 0u);
  CHECK_FALSE(cg::memory_hierarchy_id("3:cpu:/\n").has_value());
  CHECK_FALSE(cg::memory_hierarchy_id("").has_value());
}

namespace {
// A v1 memory tree of plain files: dir and its memory.oom_control.
void add(const std::string& root, const std::string& rel, bool disable) {
  REQUIRE(mkdir_p(root + rel).ok());
  REQUIRE(write_file_atomic(root + rel + "/memory.oom_control",
                            std::string("oom_kill_disable ") + (disable ? "1" : "0") + "\nunder_oom 0\n")
              .ok());
}
bool disabled(const cg::Hierarchy& h, const std::string& rel) { return h.events(rel)->oom_kill_disable; }
}  // namespace

TEST_CASE("a managed parent's journal puts back its descendants' inherited 1, not someone else's", "[births]") {
  owtest::TmpTree t("owtest-births");
  std::string root = t.path + "/mem";
  cg::Hierarchy h(root, cg::Version::V1);
  add(root, "/p", false);
  add(root, "/p/theirs", true);  // 1 before oomwatch came: kept
  std::string jpath = t.path + "/journal.json";
  {
    actuate::Journal j(jpath);
    REQUIRE(j.load().ok());
    REQUIRE(j.remember_subtree("/p", "0", {"/p/theirs"}).ok());
    CHECK(j.has("/p", "memory.oom_control"));
  }
  // The agent armed /p; children born since inherited its 1, one level and two down.
  add(root, "/p", true);
  add(root, "/p/born", true);
  add(root, "/p/born/inner", true);
  add(root, "/p/off", false);
  actuate::Journal j(jpath);  // a fresh process: the guardian, or `oomwatch restore`
  REQUIRE(j.load().ok());
  auto n = j.restore(h);
  REQUIRE(n.ok());
  CHECK(*n == 3);
  CHECK_FALSE(disabled(h, "/p"));
  CHECK_FALSE(disabled(h, "/p/born"));
  CHECK_FALSE(disabled(h, "/p/born/inner"));
  CHECK_FALSE(disabled(h, "/p/off"));
  CHECK(disabled(h, "/p/theirs"));
  CHECK_FALSE(owtest::exists(jpath));
}

TEST_CASE("a gone cgroup's journal entries are forgotten, and the file follows at the next write or restore", "[births]") {
  owtest::TmpTree t("owtest-births");
  std::string root = t.path + "/mem";
  cg::Hierarchy h(root, cg::Version::V1);
  add(root, "/p/a", true);
  add(root, "/p/ab", true);
  std::string jpath = t.path + "/journal.json";
  actuate::Journal j(jpath);
  REQUIRE(j.remember("/p/a", "memory.oom_control", "0").ok());
  REQUIRE(j.remember("/p/ab", "memory.oom_control", "0").ok());
  j.forget("/p/a");  // not "/p/ab", whose name starts the same
  CHECK(j.size() == 1);
  CHECK(j.has("/p/ab", "memory.oom_control"));
  j.forget("/p/ab");
  CHECK_FALSE(j.empty());  // the file still lists them
  CHECK(owtest::exists(jpath));
  auto n = j.restore(h);
  REQUIRE(n.ok());
  CHECK(*n == 0);
  CHECK(j.empty());
  CHECK_FALSE(owtest::exists(jpath));
  CHECK(disabled(h, "/p/ab"));  // forgotten: not touched
}

TEST_CASE("the journal is lines appended one write each; torn last lines, old files and churn", "[births]") {
  owtest::TmpTree t("owtest-births");
  std::string root = t.path + "/mem";
  cg::Hierarchy h(root, cg::Version::V1);
  std::string jpath = t.path + "/journal.json";
  auto lines = [&] { return split_lines(*read_text(jpath)).size(); };
  SECTION("a churn of a thousand children leaves a file of the live ones, not of all") {
    actuate::Journal j(jpath);
    for (int i = 0; i < 1000; ++i) {
      std::string c = "/p/c" + std::to_string(i);
      REQUIRE(j.remember(c, "memory.high", "max").ok());
      j.forget(c);
    }
    REQUIRE(j.remember("/p/live", "memory.high", "max").ok());
    CHECK(lines() <= 2 * 1 + 64 + 1);
    actuate::Journal back(jpath);
    REQUIRE(back.load().ok());
    CHECK(back.size() == 1);
    CHECK(back.has("/p/live", "memory.high"));
  }
  SECTION("a last line cut short by the agent's death is ignored; one in the middle is corruption") {
    REQUIRE(write_file_atomic(jpath, "{\"cgroup\":\"/p/a\",\"file\":\"memory.high\",\"original\":\"max\"}\n{\"cgro").ok());
    actuate::Journal j(jpath);
    REQUIRE(j.load().ok());
    CHECK(j.size() == 1);
    REQUIRE(write_file_atomic(jpath, "{\"cgro\n{\"cgroup\":\"/p/a\",\"file\":\"memory.high\",\"original\":\"max\"}\n").ok());
    auto s = j.load();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message().find("corrupt journal (line 1") != std::string::npos);
  }
  SECTION("an older agent's single object loads") {
    REQUIRE(write_file_atomic(jpath, R"({"settings":[{"cgroup":"/p/a","file":"memory.oom_control","original":"0"}]})"
                                     "\n")
                .ok());
    actuate::Journal j(jpath);
    REQUIRE(j.load().ok());
    CHECK(j.has("/p/a", "memory.oom_control"));
  }
}
