// What `recommend` lists from a node's history: the root takes no limit, so
// it is left out unless named; the short window follows a short long one.
#include <catch2/catch.hpp>

#include "advisor/gather.hpp"
#include "store/history.hpp"
#include "test_store_tmp.hpp"

using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;

std::vector<std::string> listed(store::HistoryStore& h, std::vector<std::string> selectors) {
  advisor::RecommendQuery q;
  q.now_ns = kT0 + 600 * kSec;
  q.window_ns = 600 * kSec;
  q.short_window_ns = 60 * kSec;
  q.selectors = std::move(selectors);
  advisor::RecommendSources src;
  src.history = &h;
  auto rs = advisor::gather_recommendations(q, src);
  REQUIRE(rs.ok());
  std::vector<std::string> out;
  for (const auto& r : *rs) out.push_back(r.cgroup);
  return out;
}
}  // namespace

TEST_CASE("recommend: the root cgroup is listed only when named", "[recommend]") {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<sampler::Snapshot> snaps;
  for (int i = 0; i < 60; ++i) {
    sampler::Snapshot s;
    s.ts_ns = kT0 + i * 10 * kSec;
    uint64_t id = 1;
    for (std::string p : {"/", "/kubepods", "/kubepods/pod1/c"}) {
      sampler::Sample x;
      x.cgroup = p;
      x.cgroup_id = id++;
      x.usage_bytes = 100 * kMiB;
      x.working_set_bytes = 90 * kMiB;
      x.limit_bytes = kUnlimited;
      s.samples.push_back(x);
    }
    snaps.push_back(s);
  }
  REQUIRE(h->insert(snaps).ok());
  CHECK(listed(*h, {}) == std::vector<std::string>{"/kubepods", "/kubepods/pod1/c"});
  auto named = listed(*h, {"/"});
  CHECK(std::find(named.begin(), named.end(), "/") != named.end());
}
