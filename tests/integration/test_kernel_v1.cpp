// Root, real cgroup v1: what the kernel does around a paused (armed) memory
// cgroup, as docs/rescue.md states it. An agent arming a parent with
// oom_kill_disable takes on these costs; the docs tell operators about them
// and the soak expects them, so they are checked here against the kernel
// itself rather than assumed.
#include <catch2/catch.hpp>
#include <errno.h>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "skip.hpp"
#include "workload.hpp"

using owtest::Stage;
using owtest::Workload;

namespace {
constexpr uint64_t kMiB = 1 << 20;

// Gives the kernel's OOM killer back to a cgroup whatever the test's outcome.
struct Disarm {
  const ow::cg::Hierarchy& h;
  std::string rel;
  ~Disarm() { (void)h.set_oom_kill_disable(rel, false); }
};
}  // namespace

TEST_CASE("v1: a mkdir under a full, paused parent fails with ENOMEM until the pause ends", "[integration][kernel]") {
  auto h = owtest::hierarchy();
  if (h.version() != ow::cg::Version::V1) OWTEST_SKIP("oom_kill_disable is cgroup v1 only");
  auto parent = owtest::make_cgroup(64 * kMiB, "owtest-mkdir");
  auto a = owtest::child(h, parent.path(), "a", ow::kUnlimited);
  REQUIRE(h.set_oom_kill_disable(parent.path(), true).ok());
  Disarm disarm{h, parent.path()};

  // A container filling its parent: its page faults past the limit pause it.
  Workload w(h.abs(a.path()) + "/cgroup.procs", {{128 * kMiB, 0, 0}});
  REQUIRE(owtest::wait_for([&] { return h.events(parent.path())->under_oom || !w.running(); }, 30000));
  REQUIRE(w.running());

  // A runtime creating the next container: the new memcg's per-CPU memory is
  // charged to the parent, inside the kernel, where a v1 pause cannot wait.
  auto refused = ow::cg::ScopedCgroup::create(h, parent.path(), "b", ow::kUnlimited);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().err == ENOMEM);
  // Nor does the refusal end the pause: nothing was killed, nothing freed.
  CHECK(h.events(parent.path())->under_oom);
  CHECK(w.running());

  // The kernel's OOM killer back: it kills the hog, and the same mkdir works.
  REQUIRE(h.set_oom_kill_disable(parent.path(), false).ok());
  REQUIRE(w.wait(30000));
  CHECK(w.killed());
  auto made = ow::cg::ScopedCgroup::create(h, parent.path(), "b", ow::kUnlimited);
  CHECK(made);
}
