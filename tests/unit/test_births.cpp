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
