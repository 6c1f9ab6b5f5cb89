// The id -> path cache names a cgroup that went a moment ago (an OOM event
// arrives after its cgroup is removed) but does not keep every cgroup a
// churning node ever had: a path missed by two walks is dropped.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/hierarchy.hpp"
#include "cgroup/idcache.hpp"
#include "test_store_tmp.hpp"

using ow::cg::Hierarchy;
using ow::cg::IdCache;

TEST_CASE("id cache: a removed cgroup keeps its name for one walk, then is forgotten", "[cgroup]") {
  owtest::TempDir d;
  Hierarchy h(d.path, ow::cg::Version::V2);  // plain directories: ids are their inodes
  auto mk = [&](const char* rel) {
    REQUIRE(::mkdir((d.path + rel).c_str(), 0755) == 0);
    auto id = h.id_of(rel);
    REQUIRE(id);
    return *id;
  };
  uint64_t a = mk("/a"), b = mk("/b");
  IdCache cache(h);
  CHECK(cache.path(a) == "/a");  // walk 1
  CHECK(cache.path(b) == "/b");
  // Made before the removals: tmpfs reuses a freed inode number at once,
  // which cgroupfs (kernfs ids on 64-bit) never does.
  uint64_t c = mk("/c");
  REQUIRE(::rmdir((d.path + "/b").c_str()) == 0);
  CHECK(cache.path(c) == "/c");  // walk 2: /b is not there any more...
  CHECK(cache.path(b) == "/b");  // ...but an event that comes late still names it
  CHECK(cache.path(~0ull - 1).empty());  // an id nobody has: walk 3, /b missed twice
  CHECK(cache.path(b).empty());  // forgotten (and looked up again, in vain)
  CHECK(cache.path(a) == "/a");
  CHECK(cache.path(c) == "/c");
}
