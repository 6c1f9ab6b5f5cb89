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

// A snapshot taken just before a node removed thousands of cgroups names
// each id after the walk: one rewalk for the lot, not one per id (each a walk
// of the whole tree). A cgroup made after that rewalk is named by the next
// snapshot's, not forgotten as gone.
TEST_CASE("id cache: one rewalk per batch, whatever the number of unknown ids", "[cgroup]") {
  owtest::TempDir d;
  Hierarchy h(d.path, ow::cg::Version::V2);
  REQUIRE(::mkdir((d.path + "/a").c_str(), 0755) == 0);
  IdCache cache(h);
  cache.refresh();
  const uint64_t before = cache.walks();
  cache.begin_batch();
  for (uint64_t gone = 1; gone <= 1000; ++gone) CHECK(cache.path(~0ull - gone).empty());
  CHECK(cache.walks() == before + 1);
  REQUIRE(::mkdir((d.path + "/late").c_str(), 0755) == 0);
  auto late = h.id_of("/late");
  REQUIRE(late);
  CHECK(cache.path(*late).empty());  // made after this batch's walk
  CHECK(cache.walks() == before + 1);
  cache.end_batch();
  cache.begin_batch();
  CHECK(cache.path(*late) == "/late");  // the next batch walks again and names it
  CHECK(cache.walks() == before + 2);
  cache.end_batch();
  // Outside a batch (an OOM event's lookup) a miss still walks.
  CHECK(cache.path(~0ull - 5000).empty());
  CHECK(cache.walks() == before + 3);
}
