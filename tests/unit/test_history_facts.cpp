// RawFactsFold: the last limit and the usage at the last OOM kill per cgroup,
// folded one sample at a time with cgroups interleaved as the store's scan
// hands them over.
#include <catch2/catch.hpp>

#include "advisor/history_facts.hpp"

using ow::sampler::Sample;
using namespace ow::advisor;

namespace {
Sample s(const char* path, uint64_t id, int64_t t, uint64_t usage, uint64_t peak, uint64_t kills, uint64_t limit) {
  Sample x;
  x.cgroup = path;
  x.cgroup_id = id;
  x.ts_ns = t;
  x.usage_bytes = usage;
  x.peak_bytes = peak;
  x.ev_oom_kill = kills;
  x.limit_bytes = limit;
  return x;
}
}  // namespace

TEST_CASE("raw facts: kills and last limits per cgroup, cgroups interleaved", "[advisor][unit]") {
  std::vector<Sample> v = {
      s("/a", 1, 1, 100, 150, 0, 500), s("/b", 2, 1, 10, 10, 3, 64),
      s("/a", 1, 2, 120, 400, 1, 500),  // a kill: usage 120, the watermark rose to 400 -> 400
      s("/b", 2, 2, 11, 10, 3, 64),     // no kill (the counter did not rise)
      s("/a", 1, 3, 90, 400, 1, 600),   // the limit changed: the last one counts
      s("/a", 7, 4, 80, 80, 5, 600),    // /a recreated (new id): its counter restarts, no kill inferred
      s("/b", 2, 3, 30, 10, 4, 64),     // a kill: the larger usage of the two samples
  };
  RawFactsFold fold;
  for (const auto& x : v) fold.add(x);
  const auto& f = fold.facts();
  REQUIRE(f.size() == 2);
  CHECK(f.at("/a").oom_used == 400u);
  CHECK(f.at("/a").last_limit == 600u);
  CHECK(f.at("/b").oom_used == 30u);
  CHECK(f.at("/b").last_limit == 64u);
  CHECK(raw_facts(v).at("/a").oom_used == 400u);  // the list form is the same fold

  RawFactsFold quiet;
  quiet.add(s("/c", 3, 1, 5, 5, 9, 10));  // one sample: nothing to compare with
  CHECK_FALSE(quiet.facts().at("/c").oom_used);
}
