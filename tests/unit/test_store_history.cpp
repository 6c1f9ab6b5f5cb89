// History store basics: what is inserted comes back, survives a reopen (the
// daemon restarting), and windows inside the raw tier are exact.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <tuple>

#include "stats/window.hpp"
#include "store/history.hpp"
#include "util/units.hpp"
#include "test_store_tmp.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;
using namespace ow::store;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1763856000 * kSec;

Snapshot snap(int64_t sec, std::initializer_list<std::tuple<const char*, uint64_t, uint64_t>> cgs) {
  Snapshot s;
  s.ts_ns = kT0 + sec * kSec;
  uint64_t id = 100;
  for (auto [path, usage, peak] : cgs) {
    Sample x;
    x.cgroup = path;
    x.cgroup_id = id++;
    x.usage_bytes = usage;
    x.peak_bytes = peak;
    x.limit_bytes = ow::kUnlimited;
    x.high_bytes = 1 << 30;
    x.ev_oom_kill = 2;
    s.samples.push_back(x);
  }
  return s;
}
}  // namespace

TEST_CASE("samples inserted come back field for field, unlimited included", "[store]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  REQUIRE(h->insert(snap(0, {{"/a", 10, 20}, {"/b", 30, 40}})).ok());
  auto got = h->raw_samples({}, {});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  const auto& a = (*got)[0].cgroup == "/a" ? (*got)[0] : (*got)[1];
  CHECK(a.ts_ns == kT0);
  CHECK(a.usage_bytes == 10);
  CHECK(a.peak_bytes == 20);
  CHECK(a.limit_bytes == ow::kUnlimited);
  CHECK(a.high_bytes == 1u << 30);
  CHECK(a.ev_oom_kill == 2);
  CHECK(a.cgroup_id == 100);
  auto only_b = h->raw_samples({}, {"/b"});
  REQUIRE(only_b.ok());
  REQUIRE(only_b->size() == 1);
  CHECK(only_b->front().cgroup == "/b");
}

TEST_CASE("a restart loses nothing committed", "[store]") {
  owtest::TempDir d;
  {
    auto h = HistoryStore::open(d / "h.db");
    REQUIRE(h.ok());
    for (int i = 0; i < 30; ++i) REQUIRE(h->insert(snap(i, {{"/a", 1000u + i, 0}})).ok());
  }  // closed like a stopped daemon; WAL content must be there on reopen
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  REQUIRE(h->insert(snap(30, {{"/a", 5000, 0}})).ok());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  CHECK(w->stats.at("/a").samples == 31);
  CHECK(w->stats.at("/a").max_bytes == 5000);
  CHECK(w->exact);
}

TEST_CASE("windows in the raw tier are exact, per cgroup, with the watermark", "[store]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  std::vector<Snapshot> snaps;
  for (int i = 0; i < 100; ++i) snaps.push_back(snap(i, {{"/a", 1u + i, 0}, {"/a/x", 7, i == 50 ? 900u : 100u}}));
  snaps.push_back(snap(100, {{"/late", 42, 0}}));
  REQUIRE(h->insert(snaps).ok());
  auto w = h->window_stats({kT0, kT0 + 99 * kSec}, {"/a"});
  REQUIRE(w.ok());
  CHECK(w->exact);
  REQUIRE(w->stats.size() == 2);  // /a and its child; /late is not selected
  const auto& a = w->stats.at("/a");
  CHECK((a.min_bytes == 1 && a.max_bytes == 100 && a.median_bytes == 50 && a.p95_bytes == 95));
  CHECK(a.samples == 100);
  CHECK(w->stats.at("/a/x").max_bytes == 900);  // watermark rose at 50
  auto all = h->window_stats({}, {});
  REQUIRE(all.ok());
  CHECK(all->stats.at("/late").samples == 1);
}

TEST_CASE("a window with nothing in it is empty, not zeros; to < from is refused", "[store]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  REQUIRE(h->insert(snap(0, {{"/a", 1, 0}})).ok());
  auto w = h->window_stats({kT0 + kSec, kT0 + 2 * kSec}, {});
  REQUIRE(w.ok());
  CHECK(w->stats.empty());
  CHECK_FALSE(h->window_stats({kT0, kT0 - 1}, {}).ok());
}

TEST_CASE("a recreated cgroup keeps its path; paths() lists what was recorded", "[store]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  Snapshot s1 = snap(0, {{"/a", 10, 10}}), s2 = snap(1, {{"/a", 20, 50}});
  s2.samples[0].cgroup_id = 999;  // rmdir + mkdir: new inode, fresh watermark
  REQUIRE(h->insert(s1).ok());
  REQUIRE(h->insert(s2).ok());
  auto w = h->window_stats({}, {});
  REQUIRE(w.ok());
  CHECK(w->stats.at("/a").samples == 2);
  CHECK(w->stats.at("/a").max_bytes == 20);  // no rise inferred across cgroup ids
  CHECK(*h->paths() == std::vector<std::string>{"/a"});
}

TEST_CASE("a read-only open never creates a database", "[store]") {
  owtest::TempDir d;
  StoreOptions ro;
  ro.readonly = true;
  auto h = HistoryStore::open(d / "missing.db", ro);
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().err == ENOENT);
  CHECK(::access((d / "missing.db").c_str(), F_OK) != 0);
  auto rw = HistoryStore::open(d / "sub/dir/h.db");  // parents are created
  REQUIRE(rw.ok());
  REQUIRE(rw->insert(snap(0, {{"/a", 1, 0}})).ok());
  auto reader = HistoryStore::open(d / "sub/dir/h.db", ro);
  REQUIRE(reader.ok());
  CHECK(reader->window_stats({}, {})->stats.at("/a").samples == 1);
  CHECK_FALSE(reader->insert(snap(1, {{"/a", 1, 0}})).ok());
}

TEST_CASE("the agent's reads: samples one at a time, windows from the buckets", "[store]") {
  owtest::TempDir d;
  auto h = HistoryStore::open(d / "h.db");
  REQUIRE(h.ok());
  // 5 min of two cgroups at 1 s, usage rising; /b changes every second, /a
  // every 10 s (runs of 10 samples in one row).
  for (int i = 0; i < 300; ++i)
    REQUIRE(h->insert(snap(i, {{"/a", 1'000'000u + 4096u * (i / 10), 0}, {"/b", 2'000'000u + 4096u * i, 0}})).ok());
  auto all = h->raw_samples({}, {});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 600);
  // One at a time: the same samples, each series ascending.
  std::vector<Sample> seen;
  std::map<std::string, int64_t> last;
  bool ascending = true;
  REQUIRE(h->for_each_raw_sample({}, {}, [&](const Sample& s) {
               auto [it, fresh] = last.emplace(s.cgroup, s.ts_ns);
               if (!fresh) ascending = ascending && s.ts_ns > it->second, it->second = s.ts_ns;
               seen.push_back(s);
             }).ok());
  CHECK(ascending);
  auto key = [](const Sample& s) { return std::tuple(s.ts_ns, s.cgroup, s.usage_bytes); };
  auto by_key = [&](const Sample& x, const Sample& y) { return key(x) < key(y); };
  std::sort(seen.begin(), seen.end(), by_key);
  std::vector<Sample> want = *all;
  std::sort(want.begin(), want.end(), by_key);
  REQUIRE(seen.size() == want.size());
  for (size_t i = 0; i < seen.size(); ++i) CHECK(key(seen[i]) == key(want[i]));
  // A bad range is the same error as for raw_samples.
  CHECK_FALSE(h->for_each_raw_sample({kT0 + 10 * kSec, kT0}, {}, [](const Sample&) {}).ok());

  // Roll the first 4 minutes up: the raw samples stay (raw_keep is 1 h).
  REQUIRE(h->maintain(kT0 + 300 * kSec).ok());
  const ow::stats::TimeRange all_of_it{kT0, kT0 + 299 * kSec};
  auto exact = h->window_stats(all_of_it, {});
  auto from_buckets = h->window_stats(all_of_it, {}, true);
  REQUIRE((exact.ok() && from_buckets.ok()));
  CHECK(exact->exact);
  CHECK(exact->bucket_rows == 0);
  CHECK_FALSE(from_buckets->exact);
  CHECK(from_buckets->bucket_rows >= 2 * 4);  // two cgroups' whole minutes
  for (const char* p : {"/a", "/b"}) {
    INFO(p);
    const auto& e = exact->stats.at(p);
    const auto& b = from_buckets->stats.at(p);
    CHECK(b.samples == e.samples);  // every sample, once: buckets, then raw after them
    CHECK(b.min_bytes == e.min_bytes);
    CHECK(b.max_bytes == e.max_bytes);
    CHECK(b.avg_bytes == e.avg_bytes);
    CHECK(b.p95_bytes == Approx(e.p95_bytes).epsilon(0.01));
    CHECK(b.median_bytes == Approx(e.median_bytes).epsilon(0.01));
  }
  // Nothing rolled up inside the window: raw only, exact either way.
  auto tail = h->window_stats({kT0 + 290 * kSec, kT0 + 299 * kSec}, {}, true);
  REQUIRE(tail.ok());
  CHECK(tail->exact);
}
