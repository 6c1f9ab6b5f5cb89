// OOM kills counted where they happened. The agent stores each kill with the
// kernel's usage at that instant (the oom_kill table); a sample taken after
// the kill sees the memory it freed. Recorded like a container that dies at
// its 32 MiB limit three times while its 1 s samples show 6 MiB: the
// recommendation's OOM floor comes from 32 MiB, the window counts 3 kills,
// also hours later when the raw samples are gone, and the replay counts them
// against the current limit.
#include <catch2/catch.hpp>

#include "advisor/gather.hpp"
#include "advisor/kills.hpp"
#include "advisor/replay_gather.hpp"
#include "recommend/replay.hpp"
#include "recommend/report.hpp"
#include "store/history.hpp"
#include "store/schema.hpp"
#include "test_store_sql.hpp"
#include "test_store_tmp.hpp"

using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;  // a bucket start
constexpr int64_t kHour = 3600 * kSec;

// Three hours of /pod/c at 6 MiB under a 32 MiB limit, one sample every
// 10 s; three kills at 2 h 30 min, the counter rising with them.
void record(store::HistoryStore& h, bool with_events) {
  std::vector<sampler::Snapshot> snaps;
  uint64_t killed = 0;
  for (int64_t t = 0; t < 3 * kHour; t += 10 * kSec) {
    sampler::Snapshot s;
    s.ts_ns = kT0 + t;
    if (t == 150 * 60 * kSec) killed = 3;
    sampler::Sample x;
    x.cgroup = "/pod/c";
    x.cgroup_id = 7;
    x.usage_bytes = 6 * kMiB + 512 * 1024;
    x.working_set_bytes = 6 * kMiB;
    x.peak_bytes = 32 * kMiB;  // reached long before: the watermark does not rise at the kills
    x.limit_bytes = 32 * kMiB;
    x.ev_oom_kill = killed;
    s.samples.push_back(x);
    snaps.push_back(s);
  }
  REQUIRE(h.insert(snaps).ok());
  if (with_events) {
    std::vector<store::KillRow> k;
    for (int i = 0; i < 3; ++i)
      k.push_back({kT0 + 150 * 60 * kSec - (3 - i) * kSec, "/pod/c", "/pod/c", 32 * kMiB - 4096 * i, 32 * kMiB,
                   1000 + i, false});
    k.push_back({kT0 + 10 * 60 * kSec, "", "/other", 0, 0, 2000, false});  // machine-wide: no limit to raise
    REQUIRE(h.insert_kills(k).ok());
  }
}

// The window [now - window_ns, now]; now: the end of the recording unless given.
Result<std::vector<recommend::Report>> recommend_at(store::HistoryStore& h, int64_t window_ns,
                                                    int64_t now_ns = kT0 + 3 * kHour) {
  advisor::RecommendQuery q;
  q.now_ns = now_ns;
  q.window_ns = window_ns;
  q.short_window_ns = std::min<int64_t>(window_ns, 15 * 60 * kSec);
  advisor::RecommendSources src;
  src.history = &h;
  return advisor::gather_recommendations(q, src);
}
}  // namespace

TEST_CASE("kills: stored with the kernel's figures, read back by window and limit path", "[store][recommend]") {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  record(*h, true);
  auto all = h->kills({kT0, kT0 + 3 * kHour}, {});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 4);
  CHECK((*all)[0].path.empty());  // ascending time: the machine-wide one first
  CHECK((*all)[1].usage_bytes == 32 * kMiB);
  CHECK((*all)[1].ts_ns < (*all)[2].ts_ns);
  auto sel = h->kills({kT0, kT0 + 3 * kHour}, {"/pod"});
  REQUIRE(sel.ok());
  CHECK(sel->size() == 3);  // the machine-wide one has no limit path
  auto before = h->kills({kT0, kT0 + 5 * 60 * kSec}, {});
  REQUIRE(before.ok());
  CHECK(before->empty());
  // Kept as long as the buckets, then gone.
  REQUIRE(h->maintain(kT0 + 3 * kHour).ok());
  CHECK(h->kills({kT0, kT0 + 3 * kHour}, {})->size() == 4);
  REQUIRE(h->maintain(kT0 + 7 * 86400 * kSec + 25 * 60 * kSec).ok());
  CHECK(h->kills({kT0, kT0 + 3 * kHour}, {})->size() == 3);  // the one at 10 min is older than a week
}

TEST_CASE("kills: a schema 4 file gets the oom_kill table", "[store]") {
  owtest::TempDir d;
  {
    auto h = store::HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
  }
  owtest::sql(d / "h.db", "DROP TABLE oom_kill; PRAGMA user_version=4;");
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  CHECK(owtest::sql_int(d / "h.db", "PRAGMA user_version") == store::kSchemaVersion);
  REQUIRE(h->insert_kills(std::vector<store::KillRow>{{kT0, "/a", "/a", 1, 2, 3, true}}).ok());
  auto k = h->kills({kT0, kT0}, {});
  REQUIRE(k.ok());
  REQUIRE(k->size() == 1);
  CHECK(k->front().memsw);
}

TEST_CASE("kills: the OOM floor comes from the usage at the kill, not the sample after it", "[recommend]") {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  record(*h, true);
  auto rs = recommend_at(*h, 50 * 60 * kSec);  // the raw hour: samples and events both
  REQUIRE(rs.ok());
  REQUIRE(rs->size() == 1);
  const auto& r = rs->front();
  CHECK(r.input.oom_kills == 3);
  REQUIRE(r.input.oom_used_bytes);
  CHECK(*r.input.oom_used_bytes == 32 * kMiB - 8192);  // the last kill's
  CHECK(r.oom_from == "kernel event");
  // max(used + 100Mi, used × 1.2) = 132 MiB, rounded to 16 MiB: 144 MiB.
  CHECK(r.rec.limit_bytes == 144 * kMiB);
  CHECK(r.rec.limit_term.find("at the last of 3 kills") != std::string::npos);
  auto j = recommend::report_object(r);
  CHECK(j["observed"]["oom_kills"] == 3);
  CHECK(j["observed"]["oom_kill_used_bytes"] == 32 * kMiB - 8192);
  CHECK(recommend::reports_table(*rs).find("OOM kills at its limit in the window: 3") != std::string::npos);
}

TEST_CASE("kills: without events the counter is the fallback, and the sample after a kill understates it",
          "[recommend]") {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  record(*h, false);
  auto rs = recommend_at(*h, 50 * 60 * kSec);
  REQUIRE(rs.ok());
  REQUIRE(rs->size() == 1);
  CHECK(rs->front().input.oom_kills == 3);
  CHECK(rs->front().oom_from == "oom_kill counter");
  CHECK(*rs->front().input.oom_used_bytes < 8 * kMiB);  // what the samples saw
}

TEST_CASE("kills: counted beyond the raw hour", "[recommend]") {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  record(*h, true);
  // A day later: the raw samples are gone, the kills still count.
  REQUIRE(h->maintain(kT0 + 27 * kHour).ok());
  auto rs = recommend_at(*h, 27 * kHour, kT0 + 27 * kHour);
  REQUIRE(rs.ok());
  REQUIRE(rs->size() == 1);
  CHECK(rs->front().input.oom_kills == 3);
  CHECK(*rs->front().input.oom_used_bytes == 32 * kMiB - 8192);
}

TEST_CASE("kills: the replay counts each recorded kill a rule's limit would not have prevented", "[recommend]") {
  using recommend::Point;
  std::vector<Point> pts;
  for (int i = 0; i < 10; ++i) pts.push_back({i * kSec, 6 * kMiB, 0});
  pts.insert(pts.begin() + 3, Point{2 * kSec + 1, 32 * kMiB, 32 * kMiB - 4096, true});
  pts.insert(pts.begin() + 4, Point{2 * kSec + 2, 32 * kMiB, 32 * kMiB - 8192, true});
  auto at_limit = recommend::replay(pts, 16 * kMiB, 32 * kMiB);
  CHECK(at_limit.oom_episodes == 2);
  CHECK(at_limit.samples == 10);  // kills are not samples
  CHECK(at_limit.samples_above_limit == 0);
  CHECK(at_limit.time_above_request_ns == 0);
  auto above = recommend::replay(pts, 16 * kMiB, 144 * kMiB);
  CHECK(above.oom_episodes == 0);
  // VPA's OOM sample starts from max(request, the interval's usage peak), not
  // the kernel's usage (model/container.go RecordOOM): no request, peak 6 MiB,
  // so 6 + 100 = 106 MiB for each kill (the second does not compound), in
  // bucket 9 (floor(ln(111149056 × 0.05 / 1e7 + 1) / ln 1.05)); below the
  // 250Mi minimum.
  auto v = recommend::vpa_rule(pts, std::nullopt, 32 * kMiB, 10 * kSec);
  REQUIRE(v.model.ooms.size() == 2);
  CHECK(v.model.ooms[0].sample_bytes == 106 * kMiB);
  CHECK(v.model.ooms[1].sample_bytes == 106 * kMiB);
  REQUIRE(v.model.buckets.size() == 1);
  CHECK(v.model.buckets[0].index == 9);
  CHECK(v.model.samples == 1);  // ten samples in one minute: one for the feeder
  CHECK(v.target_bytes == 250 * kMiB);

  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  record(*h, true);
  advisor::RecommendQuery q;
  q.now_ns = kT0 + 3 * kHour;
  q.window_ns = 50 * 60 * kSec;
  q.short_window_ns = 15 * 60 * kSec;
  advisor::RecommendSources src;
  src.history = h.operator->();
  auto rr = advisor::gather_replays(q, src);
  REQUIRE(rr.ok());
  REQUIRE(rr->size() == 1);
  const auto& r = rr->front();
  CHECK(r.recorded_kills == 3);
  REQUIRE(r.current.result);
  CHECK(r.current.result->oom_episodes == 3);  // the 32 MiB limit in force killed three times
  REQUIRE(r.seed.result);
  CHECK(r.seed.result->oom_episodes == 0);     // the recommended 144 MiB would have held
}
