// The agent's recommendation worker, one round at a time on a recorded
// database: it looks after Kubernetes containers and --manage descendants
// only, queues what passes hysteresis/cooldown, and the store keeps rows
// for audit with the last one per path.
#include <catch2/catch.hpp>
#include <time.h>

#include <set>

#include "recsvc/worker.hpp"
#include "store/history.hpp"
#include "test_store_tmp.hpp"

using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;
constexpr int64_t kSec = 1'000'000'000;

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * kSec + ts.tv_nsec;
}

void record(const std::string& db, const std::vector<std::string>& paths, uint64_t ws) {
  auto h = store::HistoryStore::open(db);
  REQUIRE(h.ok());
  std::vector<sampler::Snapshot> snaps;
  int64_t t0 = now_ns() - 600 * kSec;
  for (int i = 0; i < 60; ++i) {
    sampler::Snapshot s;
    s.ts_ns = t0 + i * 10 * kSec;
    uint64_t id = 1;
    for (const auto& p : paths) {
      sampler::Sample x;
      x.cgroup = p;
      x.cgroup_id = id++;
      x.usage_bytes = ws + kMiB;
      x.working_set_bytes = ws;
      x.limit_bytes = kUnlimited;
      s.samples.push_back(x);
    }
    snaps.push_back(s);
  }
  REQUIRE(h->insert(snaps).ok());
}
}  // namespace

TEST_CASE("recommendation rows: stored for audit, the newest per path comes back", "[store][recommend]") {
  owtest::TempDir d;
  auto h = store::HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<store::RecommendationRow> rows{
      {100, "/a", 224 * kMiB, 336 * kMiB, 110 * kMiB, 180 * kMiB, 210 * kMiB, 3600 * kSec, "high", "why a1"},
      {200, "/a", 256 * kMiB, 384 * kMiB, 120 * kMiB, 200 * kMiB, 230 * kMiB, 3600 * kSec, "low", "why a2"},
      {150, "/b", 64 * kMiB, 128 * kMiB, 1, 2, 3, 60 * kSec, "low", "why b"}};
  REQUIRE(h->insert_recommendations(rows).ok());
  auto last = h->last_recommendations({});
  REQUIRE(last.ok());
  REQUIRE(last->size() == 2);
  CHECK(last->at("/a").ts_ns == 200);
  CHECK(last->at("/a").request_bytes == 256 * kMiB);
  CHECK(last->at("/a").rationale == "why a2");
  CHECK(last->at("/b").confidence == "low");
  auto only_b = h->last_recommendations({"/b"});
  REQUIRE(only_b.ok());
  CHECK(only_b->size() == 1);
}

TEST_CASE("recommend worker: containers and managed children, once per cooldown", "[recommend]") {
  owtest::TempDir d;
  std::string db = d / "h.db";
  const std::string ctr = "/kubepods/burstable/pod1234/abcdef0123456789";
  record(db, {ctr, "/kubepods/burstable/pod1234", "/system.slice/cron.service", "/managed", "/managed/a", "/managed/gone"},
         100 * kMiB);
  recsvc::RecommendWorkerOptions o;
  o.db_path = db;
  o.roots = {"/managed"};
  o.interval_ns = 3600 * kSec;  // the thread stays idle: rounds run here
  o.pods_log_dir = d / "no-logs";
  // A cgroupfs of plain directories: the cgroups that exist now (no limit
  // files: limits from history). /managed/gone has history and no directory.
  cg::Hierarchy h(d / "cgroupfs", cg::Version::V2);
  for (const std::string& p : {ctr, std::string("/managed/a"), std::string("/system.slice/cron.service")})
    REQUIRE(std::system(("mkdir -p '" + d.path + "/cgroupfs" + p + "'").c_str()) == 0);
  auto w = recsvc::RecommendWorker::open(o, h);
  REQUIRE(w.ok());
  auto n = (*w)->round();
  REQUIRE(n.ok());
  CHECK(*n == 2);
  auto fresh = (*w)->take();
  REQUIRE(fresh.size() == 2);
  std::set<std::string> got;
  for (const auto& f : fresh) got.insert(f.row.path);
  CHECK(got == std::set<std::string>{ctr, "/managed/a"});  // not /managed/gone: nobody to apply it to
  for (const auto& f : fresh) {
    // 10 min of data: low confidence. 100 × 1.40 = 140 < 100 × 1.50 = 150 -> 160; 160 × 1.5 = 240.
    CHECK(f.row.request_bytes == 160 * kMiB);
    CHECK(f.row.limit_bytes == 240 * kMiB);
    CHECK(f.row.confidence == "low");
  }
  CHECK((*w)->take().empty());
  auto again = (*w)->round();
  REQUIRE(again.ok());
  CHECK(*again == 0);  // same figures: within hysteresis of the last, and in its cooldown
}
