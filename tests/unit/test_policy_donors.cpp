// Siblings as donors: floors, who may donate, proportional split, and
// "insufficient" giving only what is safe. The parent here has no headroom
// (usage 1000 MiB of 1 GiB), so everything comes from siblings.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "policy/donors.hpp"
#include "test_policy_fixture.hpp"

using namespace owtest::policy;

namespace {
Incident no_headroom(uint64_t growth = 0) {
  auto in = incident(growth);
  in.parent.usage_bytes = 1000 * MiB;
  return in;
}
}  // namespace

TEST_CASE("donor floor = page_up(max(usage + margin, window max, configured floor))", "[policy]") {
  struct Row { uint64_t usage, window_max, cfg_floor; bool stats; uint64_t floor; };
  const Row rows[] = {
      {100 * MiB, 50 * MiB, 0, true, 110 * MiB},          // usage + 10 % margin
      {100 * MiB, 300 * MiB, 0, true, 300 * MiB},         // window max
      {100 * MiB, 300 * MiB, 350 * MiB, true, 350 * MiB}, // configured floor
      {20 * MiB, 0, 0, true, 28 * MiB},                   // 8 MiB minimum margin
      {20 * MiB + 1, 0, 0, true, 28 * MiB + kPage},       // page-rounded up
      {0, 500 * MiB, 0, false, 8 * MiB},                  // no stats: window ignored
      {0, 0, 350 * MiB + 1, true, 350 * MiB + kPage},
  };
  for (const auto& r : rows) {
    auto c = sib("/p/x", r.usage, 1024 * MiB, 1024 * MiB, r.window_max);
    c.window.has_stats = r.stats;
    c.config.floor_bytes = r.cfg_floor;
    INFO("usage " << r.usage << " max " << r.window_max << " floor " << r.cfg_floor);
    CHECK(donor_floor_bytes(c, Params{}) == r.floor);
  }
}

TEST_CASE("who may donate", "[policy]") {
  auto receiver = incident().receiver;
  auto ok = sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB);
  CHECK_FALSE(why_not_donor(ok, receiver, Params{}, {}, kNow));

  struct Row { const char* name; CgroupState s; const char* why; };
  auto no_donate = ok; no_donate.config.may_donate = false;
  auto no_stats = ok; no_stats.window.has_stats = false;
  auto no_limit = ok; no_limit.limit_bytes = ow::kUnlimited;
  auto at_median = ok; at_median.usage_bytes = 200 * MiB;
  auto above_median = ok; above_median.usage_bytes = 300 * MiB;
  auto important = ok; important.config.priority = 1;
  auto no_room = ok; no_room.limit_bytes = 250 * MiB;
  const Row rows[] = {
      {"may_donate=false", no_donate, "may not donate"},
      {"no stats", no_stats, "no statistics"},
      {"no limit", no_limit, "no limit"},
      {"usage > median", above_median, "above its median"},
      {"higher priority", important, "higher priority"},
      {"limit at floor", no_room, "no room"},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    auto why = why_not_donor(r.s, receiver, Params{}, {}, kNow);
    REQUIRE(why);
    CHECK(why->find(r.why) != std::string::npos);
  }
  // Flat usage (an idle cgroup) sits at its median: the best donor there is.
  CHECK_FALSE(why_not_donor(at_median, receiver, Params{}, {}, kNow));
  auto less_important = ok; less_important.config.priority = -5;
  CHECK_FALSE(why_not_donor(less_important, receiver, Params{}, {}, kNow));
}

TEST_CASE("donors give in proportion to their spare room", "[policy]") {
  auto in = no_headroom(90 * MiB);
  in.siblings = {sib("/p/d", 50 * MiB, 200 * MiB, 100 * MiB, 80 * MiB),    // floor 80: spare 120
                 sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),  // floor 250: spare 150
                 sib("/p/c", 300 * MiB, 424 * MiB, 250 * MiB, 350 * MiB)}; // above median
  auto pl = plan(in, Params{}, {});
  CHECK(pl.result == Outcome::planned);
  CHECK(pl.source == Source::siblings);
  CHECK(pl.global_bytes == 0);
  CHECK(pl.added_bytes == 90 * MiB);
  REQUIRE(pl.adjustments.size() == 3);
  // Donors in path order, then the receiver. 90 * 150/270 = 50, 90 * 120/270 = 40.
  CHECK(pl.adjustments[0].path == "/p/b");
  CHECK(pl.adjustments[0].reduced_bytes == 50 * MiB);
  CHECK(pl.adjustments[0].new_limit_bytes == 350 * MiB);
  CHECK(pl.adjustments[1].path == "/p/d");
  CHECK(pl.adjustments[1].reduced_bytes == 40 * MiB);
  CHECK(pl.adjustments[1].new_limit_bytes == 160 * MiB);
  CHECK(pl.adjustments[2].path == "/p/a");
  CHECK(pl.adjustments[2].new_limit_bytes == 290 * MiB);
}

TEST_CASE("leftover pages go to the largest remainders, whole pages only", "[policy]") {
  struct Row { uint64_t spare1_pages, spare2_pages, spare3_pages, want_pages; uint64_t g1, g2, g3; };
  const Row rows[] = {
      {10, 10, 10, 5, 2, 2, 1},  // equal remainders: path order breaks the tie
      {10, 20, 0, 7, 2, 5, 0},   // 2.33 / 4.67: the .67 gets the leftover page
      {3, 3, 3, 9, 3, 3, 3},     // exactly all spare
      {1, 1, 1, 1, 1, 0, 0},
  };
  for (const auto& r : rows) {
    auto in = no_headroom();
    auto donor = [](const char* path, uint64_t spare_pages) {
      return sib(path, 0, 8 * MiB + spare_pages * kPage, 1 * MiB, 0);  // floor 8 MiB
    };
    in.siblings = {donor("/p/x1", r.spare1_pages), donor("/p/x2", r.spare2_pages),
                   donor("/p/x3", r.spare3_pages)};
    Params p;
    p.min_step_bytes = r.want_pages * kPage;
    INFO("spares " << r.spare1_pages << "/" << r.spare2_pages << "/" << r.spare3_pages << " want " << r.want_pages);
    auto pick = pick_donors(in.receiver, in.siblings, r.want_pages * kPage, p, {}, kNow);
    uint64_t given[3] = {0, 0, 0};
    for (const auto& d : pick.donations) given[d.path.back() - '1'] = d.given_bytes;
    CHECK(given[0] == r.g1 * kPage);
    CHECK(given[1] == r.g2 * kPage);
    CHECK(given[2] == r.g3 * kPage);
    CHECK(pick.total_bytes == r.want_pages * kPage);
    CHECK(plan(in, p, {}).added_bytes == r.want_pages * kPage);
  }
}

TEST_CASE("at most max_donors siblings give: those with the most spare room", "[policy]") {
  auto in = no_headroom();
  auto donor = [](const std::string& path, uint64_t spare_pages) {
    return sib(path, 0, 8 * MiB + spare_pages * kPage, 1 * MiB, 0);  // floor 8 MiB
  };
  // 20 idle siblings /p/s00../p/s19 with 100 + i pages spare each; s19 has the most.
  for (int i = 0; i < 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "/p/s%02d", i);
    in.siblings.push_back(donor(name, 100 + i));
  }
  Params p;
  p.max_donors = 4;
  // The four with the most spare: s16..s19 (116..119 pages, 470 in all).
  auto pick = pick_donors(in.receiver, in.siblings, 47 * kPage, p, {}, kNow);
  REQUIRE(pick.donations.size() == 4);
  CHECK(pick.donations[0].path == "/p/s16");  // path order
  CHECK(pick.donations[3].path == "/p/s19");
  CHECK(pick.total_bytes == 47 * kPage);
  uint64_t given = 0;
  for (const auto& d : pick.donations) {
    CHECK(d.given_bytes >= 11 * kPage);  // 47 * 116..119 / 470, proportional
    CHECK(d.given_bytes <= 12 * kPage);
    given += d.given_bytes;
  }
  CHECK(given == 47 * kPage);
  REQUIRE_FALSE(pick.skipped.empty());
  CHECK(pick.skipped.back() == "16 more eligible sibling(s) not asked: at most 4 donors per plan, those with the "
                               "most spare room");
  // More than the four can give: they give all their spare, the rest stay untouched.
  auto all = pick_donors(in.receiver, in.siblings, 1000 * kPage, p, {}, kNow);
  CHECK(all.donations.size() == 4);
  CHECK(all.total_bytes == 470 * kPage);
  // The default is 8; 0 means no cap (every eligible sibling in proportion).
  CHECK(pick_donors(in.receiver, in.siblings, 47 * kPage, Params{}, {}, kNow).donations.size() == 8);
  p.max_donors = 0;
  CHECK(pick_donors(in.receiver, in.siblings, 1000 * kPage, p, {}, kNow).donations.size() == 20);
}

TEST_CASE("not enough anywhere: give what is safe, donors end exactly at their floor", "[policy]") {
  auto in = no_headroom(1000 * MiB);
  auto e = sib("/p/e", 100 * MiB, 300 * MiB, 150 * MiB, 120 * MiB);
  e.config.floor_bytes = 280 * MiB;
  in.siblings = {sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB),  // floor 250 (window max)
                 e,                                                        // floor 280 (config)
                 sib("/p/f", 150 * MiB, 200 * MiB, 200 * MiB, 100 * MiB)}; // floor 165 (usage + 10 %)
  auto pl = plan(in, Params{}, {});
  CHECK(pl.result == Outcome::insufficient);
  CHECK(pl.need_bytes == 1000 * MiB);
  CHECK(pl.added_bytes == 205 * MiB);
  CHECK(new_limit(pl, "/p/b") == 250 * MiB);
  CHECK(new_limit(pl, "/p/e") == 280 * MiB);
  CHECK(new_limit(pl, "/p/f") == 165 * MiB);
  CHECK(new_limit(pl, "/p/a") == 405 * MiB);
  CHECK(pl.reason.find("short by 795MiB") != std::string::npos);
}

TEST_CASE("no eligible sibling: nothing moves, the reason says why", "[policy]") {
  auto in = no_headroom();
  auto b = sib("/p/b", 100 * MiB, 400 * MiB, 200 * MiB, 250 * MiB);
  b.config.may_donate = false;
  auto c = sib("/p/c", 300 * MiB, 424 * MiB, 250 * MiB, 350 * MiB);  // above median
  auto d = cg("/p/d", 10 * MiB, 400 * MiB);                           // no stats
  in.siblings = {b, c, d, in.receiver};  // the receiver itself is never its own donor
  auto pl = plan(in, Params{}, {});
  CHECK(pl.result == Outcome::insufficient);
  CHECK(pl.added_bytes == 0);
  CHECK(pl.source == Source::none);
  CHECK(pl.adjustments.empty());
  CHECK(pl.reason.find("skipped /p/b: may not donate") != std::string::npos);
  CHECK(pl.reason.find("skipped /p/c: usage 300MiB above its median 250MiB") != std::string::npos);
  CHECK(pl.reason.find("skipped /p/d: no statistics") != std::string::npos);
  CHECK(pl.reason.find("skipped /p/a") == std::string::npos);
}
