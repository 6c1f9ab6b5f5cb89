// `report --html`: chart series from a real history database (exact paths,
// slots, both tiers, OOM kills from the counters), the choice of cgroups,
// and the page's shape (embedded library, one chart per cgroup, escaping).
#include <catch2/catch.hpp>

#include "store/history.hpp"
#include "test_store_tmp.hpp"
#include "view/report_assets.hpp"
#include "view/report_html.hpp"
#include <nlohmann/json.hpp>
#include "view/report_model.hpp"

using namespace ow;
using namespace ow::view;

namespace {
constexpr int64_t kSec = 1'000'000'000;
constexpr uint64_t kMiB = 1ull << 20;

sampler::Sample smp(const std::string& path, uint64_t id, uint64_t usage, uint64_t kills = 0) {
  sampler::Sample s;
  s.cgroup = path;
  s.cgroup_id = id;
  s.usage_bytes = usage;
  s.working_set_bytes = usage / 2;
  s.limit_bytes = 256 * kMiB;
  s.high_bytes = kUnlimited;
  s.ev_oom_kill = kills;
  return s;
}
}  // namespace

TEST_CASE("chart series: exact paths, slot maxima, OOM kills from the counters", "[view][unit]") {
  owtest::TempDir dir;
  auto h = store::HistoryStore::open(dir / "h.db");
  REQUIRE(h);
  const int64_t t0 = 1'700'000'000 * kSec;
  std::vector<sampler::Snapshot> snaps;
  for (int i = 0; i < 100; ++i) {
    uint64_t kills = i >= 60 ? 1 : 0;  // one kill between samples 59 and 60
    snaps.push_back({t0 + i * kSec, {smp("/a", 1, (10 + i) * kMiB, kills), smp("/a/b", 2, 5 * kMiB)}});
  }
  REQUIRE(h->insert(snaps));
  stats::TimeRange r{t0, t0 + 99 * kSec};
  auto s = h->chart_series(r, {"/a", "/missing"}, 10 * kSec);
  REQUIRE(s);
  REQUIRE(s->size() == 2);
  CHECK(s->at("/missing").points.empty());
  const auto& a = s->at("/a");
  REQUIRE(a.points.size() == 10);
  CHECK(a.points[0].start_ns == t0);
  CHECK(a.points[0].usage_max_bytes == 19 * kMiB);  // max of samples 0..9, not /a/b's
  CHECK(a.points[9].usage_max_bytes == 109 * kMiB);
  CHECK(a.points[9].ws_max_bytes == 109 * kMiB / 2);
  CHECK(a.points[9].limit_bytes == 256 * kMiB);
  REQUIRE(a.oom_kill_ts_ns.size() == 1);
  CHECK(a.oom_kill_ts_ns[0] == t0 + 60 * kSec);
  CHECK_FALSE(h->chart_series(r, {"/a"}, 0));
}

TEST_CASE("chart series read buckets once raw samples are gone", "[view][unit]") {
  owtest::TempDir dir;
  store::StoreOptions so;
  so.raw_keep_ns = 60 * kSec;
  so.rollup_lag_ns = 0;
  auto h = store::HistoryStore::open(dir / "h.db", so);
  REQUIRE(h);
  const int64_t t0 = 1'700'000'000 * kSec - (1'700'000'000 % 60) * kSec;  // a minute edge
  std::vector<sampler::Snapshot> snaps;
  for (int i = 0; i < 600; ++i) snaps.push_back({t0 + i * kSec, {smp("/a", 1, (i % 60 == 30 ? 99 : 1) * kMiB)}});
  REQUIRE(h->insert(snaps));
  REQUIRE(h->maintain(t0 + 600 * kSec));
  auto raw = h->raw_samples({t0, t0 + 300 * kSec}, {});
  REQUIRE(raw);
  CHECK(raw->empty());  // the first minutes live in buckets only
  auto s = h->chart_series({t0, t0 + 599 * kSec}, {"/a"}, 60 * kSec);
  REQUIRE(s);
  const auto& pts = s->at("/a").points;
  REQUIRE(pts.size() == 10);
  for (const auto& p : pts) CHECK(p.usage_max_bytes == 99 * kMiB);  // each minute's spike survives
}

TEST_CASE("report picks the top cgroups by peak and slots to at most max points", "[view][unit]") {
  stats::StatsByCgroup st;
  st["/a"].max_bytes = 5;
  st["/b"].max_bytes = 50;
  st["/c"].max_bytes = 50;
  st["/d"].max_bytes = 1;
  CHECK(choose_cgroups(st, 2) == std::vector<std::string>{"/b", "/c"});
  CHECK(choose_cgroups(st, 0).size() == 4);
  CHECK(choose_cgroups({}, 3).empty());
  for (int64_t span : {int64_t{0}, int64_t{1}, 499 * kSec, 500 * kSec, 86400 * kSec, 86400 * kSec + 7}) {
    int64_t slot = chart_slot_ns(0, span, 500, 1);
    CAPTURE(span, slot);
    CHECK(span / slot + 1 <= 500);
  }
  CHECK(chart_slot_ns(0, 10 * kSec, 500, kSec) == kSec);  // never finer than min
}

TEST_CASE("the HTML page embeds the library, one chart per cgroup, markers and escaped names", "[view][unit]") {
  ReportData d;
  d.from_ns = 1'700'000'000 * kSec;
  d.to_ns = d.from_ns + 3600 * kSec;
  d.generated_ns = d.to_ns;
  d.db_path = "/tmp/h.db";
  d.audit_note = "none";
  d.total_cgroups = 3;
  for (std::string p : {"/web", "/x<script>\xff", "/db"}) {
    ReportCgroup c;
    c.path = p;
    c.series.points.push_back({d.from_ns, 10 * kMiB, 5 * kMiB, kUnlimited});
    c.series.points.push_back({d.from_ns + 60 * kSec, 12 * kMiB, 6 * kMiB, 64 * kMiB});
    stats::WindowStats w;
    w.samples = 2;
    w.max_bytes = 12 * kMiB;
    c.stats = w;
    d.cgroups.push_back(c);
  }
  d.cgroups[0].series.oom_kill_ts_ns.push_back(d.from_ns + 30 * kSec);
  d.cgroups[2].recommendation = ReportRecommendation{20 * kMiB, 40 * kMiB, "high", "why"};
  store::RecommendationRow stored;
  stored.request_bytes = 24 * kMiB;
  stored.limit_bytes = 48 * kMiB;
  d.cgroups[2].stored = stored;
  // A kill the kernel reported, with its usage: preferred to the counters' guess.
  d.cgroups[1].kills.push_back({d.from_ns + 50 * kSec, "/x<script>\xff", "/x<script>\xff", 64 * kMiB, 64 * kMiB, 42, false});
  d.cgroups[1].series.oom_kill_ts_ns.push_back(d.from_ns + 51 * kSec);
  attach_events(d, {Event{d.from_ns + 31 * kSec, "/web", "oom_kill", "applied +16MiB from siblings", "audit"},
                    Event{d.from_ns + 40 * kSec, "/elsewhere", "pressure", "planned", "audit"}});
  REQUIRE(d.cgroups[0].events.size() == 2);
  CHECK(d.cgroups[0].kill_count() == 1);
  REQUIRE(d.cgroups[1].events.size() == 1);
  CHECK(d.cgroups[1].events[0].source == "kernel");
  CHECK(d.cgroups[1].events[0].detail == "OOM kill at 64MiB of 64MiB, pid 42");
  CHECK(d.other_events.size() == 1);

  std::string page = render_html(d, dygraphs_js(), dygraphs_css());
  CHECK(page.find(std::string(dygraphs_js().substr(0, 200))) != std::string::npos);
  CHECK(dygraphs_js().size() > 100'000);
  CHECK(page.find("id=\"ow-status\"") != std::string::npos);
  for (int i = 0; i < 3; ++i) CHECK(page.find("id=\"chart-" + std::to_string(i) + "\"") != std::string::npos);
  CHECK(page.find("id=\"chart-3\"") == std::string::npos);
  CHECK(page.find("/x&lt;script&gt;\\xff") != std::string::npos);  // escaped in HTML
  CHECK(page.find("<script>\\xff") == std::string::npos);
  CHECK(page.find("\"k\":\"oom_kill\"") != std::string::npos);
  CHECK(page.find("\"k\":\"action\"") != std::string::npos);
  CHECK(page.find("applied +16MiB from siblings") != std::string::npos);
  CHECK(page.find("20MiB") != std::string::npos);  // the recommendation
  CHECK(page.find("24MiB / 48MiB") != std::string::npos);  // and the agent's stored one
  // Nothing to fetch: the one URL is the library's licence comment.
  size_t urls = 0;
  for (size_t p = page.find("://"); p != std::string::npos; p = page.find("://", p + 1)) ++urls;
  CHECK(urls == 1);
  CHECK(page.find("https://github.com/danvk/dygraphs/blob/v2.2.1/LICENSE.txt") != std::string::npos);
  // The data script holds no "</" that could close it early.
  auto data = page.find("var OW = ");
  REQUIRE(data != std::string::npos);
  CHECK(page.substr(data, page.find(";</script>", data) - data).find("</") == std::string::npos);

  // Names a tenant chose: "<!--" would put the parser into the escaped script
  // state (the page's own "</script>" then no longer ends the data, and
  // nothing draws); U+2028 ends a line in older JavaScript.
  ReportData hostile = d;
  hostile.cgroups[0].path = "/<!--<script>";
  hostile.cgroups[1].path = "/a-->b</script x>";
  hostile.cgroups[2].path = "/line\xe2\x80\xa8sep\xe2\x80\xa9&amp;";
  std::string hp = render_html(hostile, "", "");
  auto hd = hp.find("var OW = ");
  REQUIRE(hd != std::string::npos);
  auto he = hp.find(";</script>", hd);
  REQUIRE(he != std::string::npos);
  std::string script = hp.substr(hd, he - hd);
  INFO(script);
  for (const char* bad : {"<", ">", "&", "\xe2\x80\xa8", "\xe2\x80\xa9"}) CHECK(script.find(bad) == std::string::npos);
  // The data is still the names, for the script that reads it.
  auto j = nlohmann::json::parse(script.substr(std::string("var OW = ").size()));
  std::string all = j.dump();
  CHECK(all.find("/<!--<script>") != std::string::npos);
  CHECK(all.find("/a-->b</script x>") != std::string::npos);
  CHECK(all.find("/line\xe2\x80\xa8sep\xe2\x80\xa9&amp;") != std::string::npos);

  ReportData empty = d;
  empty.cgroups.clear();
  CHECK(render_html(empty, "", "").find("No samples in this window") != std::string::npos);
}

TEST_CASE("report window: left to its defaults it narrows to what the history covers, and says so", "[view][unit]") {
  stats::StatsByCgroup st;
  const int64_t now = 1'700'000'000 * kSec;
  stats::TimeRange day{now - 86400 * kSec, now};
  stats::WindowStats a, b;
  a.first_ts_ns = now - 300 * kSec;
  a.last_ts_ns = now - 20 * kSec;
  b.first_ts_ns = now - 250 * kSec;
  b.last_ts_ns = now - 10 * kSec;
  st["/a"] = a;
  st["/b"] = b;
  auto f = fit_window(st, day, true, true);
  CHECK(f.range.from_ns == now - 300 * kSec);
  CHECK(f.range.to_ns == now - 10 * kSec);
  CHECK(f.note == "the 4m50s the history covers (of the last 24h00m; --from/--to choose another window)");
  auto from_only = fit_window(st, day, true, false);
  CHECK(from_only.range.to_ns == now);
  auto asked = fit_window(st, day, false, false);  // --from given: as asked
  CHECK(asked.range.from_ns == day.from_ns);
  CHECK(asked.note.empty());
  stats::WindowStats old;  // history older than the window's start is not reached for
  old.first_ts_ns = now - 90000 * kSec;
  old.last_ts_ns = now;
  st["/c"] = old;
  auto all = fit_window(st, day, true, true);
  CHECK(all.range.from_ns == day.from_ns);
  CHECK(all.note.empty());
}
