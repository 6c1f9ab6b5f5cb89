// Root, real cgroups: the cgroup_mkdir hook reports cgroups made under a
// watched root (children and their children, names as bytes) and nothing
// made elsewhere; the ring is FIFO, so a birth outside made before one inside
// would have come first.
#include <catch2/catch.hpp>
#include <poll.h>

#include <vector>

#include "rescue/birth_watch.hpp"
#include "bpf/loader.hpp"
#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "skip.hpp"

using namespace ow;

TEST_CASE("births: cgroups made under a watched root are reported at once, others never", "[bpf][births]") {
  bpf::LoaderOptions lo;
  lo.oom_events = false;
  lo.births = true;
  auto l = bpf::Loader::open(lo);
  REQUIRE(l.ok());
  if (!(*l)->births_attached()) OWTEST_SKIP("the cgroup_mkdir tracepoint did not attach on this kernel");
  auto h = owtest::hierarchy();
  auto root = owtest::make_cgroup(kUnlimited, "owtest-births");
  auto other = owtest::make_cgroup(kUnlimited, "owtest-births-other");
  std::vector<rescue::Birth> got;
  auto w = rescue::BirthWatch::open(**l, h, {root.path()}, [&](const rescue::Birth& b) { got.push_back(b); });
  REQUIRE(w.ok());
  auto outside = owtest::child(h, other.path(), "x", kUnlimited);
  const std::string odd = "a b\x1b[1m\xff";  // a tenant's name: any bytes but '/'
  auto a = owtest::child(h, root.path(), odd.c_str(), kUnlimited);
  auto b = owtest::child(h, a.path(), "b", kUnlimited);
  REQUIRE(owtest::wait_for(
      [&] {
        pollfd p{(*w)->fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) REQUIRE((*w)->poll().ok());
        return got.size() >= 2;
      },
      5000));
  REQUIRE(got.size() == 2);
  auto base = [](const std::string& p) { return p.substr(p.rfind('/') + 1); };
  CHECK(got[0].name == base(a.path()));
  CHECK(got[0].name.rfind(odd, 0) == 0);
  CHECK(got[0].depth == 1);
  CHECK(got[0].id == *h.id_of(a.path()));
  CHECK(got[0].parent_id == *h.id_of(root.path()));
  CHECK(got[0].root_id == *h.id_of(root.path()));
  CHECK(got[1].name == base(b.path()));
  CHECK(got[1].depth == 2);
  CHECK(got[1].parent_id == *h.id_of(a.path()));
  CHECK(got[0].mono_ns <= got[1].mono_ns);
  CHECK((*w)->drops() == 0);
  CHECK((*w)->malformed() == 0);
}
