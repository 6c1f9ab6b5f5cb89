// The donor history keeps the figures of the managed children alive now, not
// of every sibling the database still remembers: under churn that is the
// donor window's worth of cgroups that are gone.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "rescue/donor_history.hpp"
#include "store/history.hpp"
#include "util/clock.hpp"
#include "util/units.hpp"
#include "test_store_tmp.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;

namespace {
// Waits (bounded) until pred holds: the worker refreshes on its own thread.
template <class F>
bool eventually(F pred) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}
}  // namespace

TEST_CASE("donor history: only the children said to be alive are read and kept", "[donor]") {
  owtest::TempDir d;
  {
    auto h = ow::store::HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
    int64_t now = ow::wall_ns();
    for (int i = 0; i < 10; ++i) {
      Snapshot s;
      s.ts_ns = now - (60 - i) * 1'000'000'000LL;
      uint64_t id = 100;
      for (const char* p : {"/r/a", "/r/b", "/r/gone-1", "/r/gone-2"}) {
        Sample x;
        x.cgroup = p;
        x.cgroup_id = id++;
        x.usage_bytes = (id << 20) + i;
        x.limit_bytes = ow::kUnlimited;
        s.samples.push_back(x);
      }
      REQUIRE(h->insert(s).ok());
    }
  }
  ow::rescue::DonorHistoryOptions o;
  o.db_path = d / "h.db";
  o.roots = {"/r"};
  o.refresh_ns = 10'000'000;
  auto dh = ow::rescue::DonorHistory::open(o);
  REQUIRE(dh.ok());
  auto& donors = **dh;
  CHECK(donors.size() == 4);  // before the daemon says who lives: the roots' whole history
  donors.set_live({"/r/a", "/r/b"});
  REQUIRE(eventually([&] { return donors.size() == 2; }));
  CHECK(donors.get("/r/a"));
  CHECK(donors.get("/r/b"));
  CHECK_FALSE(donors.get("/r/gone-1"));
  donors.set_live({});  // nobody left: nothing read, nothing kept (never "every series")
  REQUIRE(eventually([&] { return donors.size() == 0; }));
}
