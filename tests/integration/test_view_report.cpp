// `oomwatch report --html` end to end: a history database and an audit log
// written by the test (through the store API), the real binary, and headless
// Chromium in a network namespace of its own (unshare -n: no network at all)
// loading the file: no script errors, every selected cgroup's chart drawn,
// a screenshot in the build directory. Two Chromium runs in all.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "helpers.hpp"
#include "stats/time.hpp"
#include "store/history.hpp"
#include "util/fs.hpp"

using namespace ow;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr uint64_t kMiB = 1ull << 20;

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/owview-report-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)!std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& n) const { return path + "/" + n; }
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

sampler::Sample smp(const std::string& path, uint64_t id, uint64_t usage, uint64_t limit, uint64_t kills = 0) {
  sampler::Sample s;
  s.cgroup = path;
  s.cgroup_id = id;
  s.usage_bytes = usage;
  s.working_set_bytes = usage * 3 / 4;
  s.limit_bytes = limit;
  s.high_bytes = kUnlimited;
  s.ev_oom_kill = kills;
  return s;
}

std::string dir_of(const std::string& p) { return p.substr(0, p.rfind('/')); }

bool has(const std::string& s, const std::string& w) { return s.find(w) != std::string::npos; }

std::vector<std::string> chromium(const TempDir& tmp, std::vector<std::string> extra, const std::string& file) {
  // HOME and XDG dirs in the temp dir too: Chromium keeps crash-report
  // settings under ~/.config/chromium whatever --user-data-dir says.
  std::vector<std::string> a{"env", "HOME=" + tmp.path, "XDG_CONFIG_HOME=" + (tmp / "config"),
                             "XDG_CACHE_HOME=" + (tmp / "cache"), "unshare", "-n", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", "--disable-breakpad", "--user-data-dir=" + (tmp / "chromium"),
                             "--enable-logging=stderr", "--v=0"};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back("file://" + file);
  return a;
}

}  // namespace

// [hosttools]: Chromium and unshare are Debian's, not in the VM tier's guests.
TEST_CASE("report --html renders every selected cgroup in headless Chromium with no network",
          "[integration][view][hosttools]") {
  REQUIRE(owtest::is_root());  // unshare -n
  TempDir tmp;
  const int64_t end = now_ns(), start = end - 30 * 60 * kSec;
  {
    auto h = store::HistoryStore::open(tmp / "history.db");
    REQUIRE(h);
    std::vector<sampler::Snapshot> snaps;
    for (int64_t t = start, i = 0; t <= end; t += 10 * kSec, ++i) {
      uint64_t kills = t > start + 20 * 60 * kSec ? 1 : 0;  // /owview/batch killed at minute 20
      snaps.push_back({t,
                       {smp("/owview/web", 11, (100 + i % 30) * kMiB, 256 * kMiB),
                        smp("/owview/db", 12, (50 + i / 4) * kMiB, kUnlimited),
                        smp("/owview/batch", 13, (i % 120) * kMiB, 128 * kMiB, kills),
                        // a tenant's name: "<!--" in the page's data script
                        // must not keep the charts from drawing
                        smp("/owview/<!--<script>", 15, 20 * kMiB, 64 * kMiB),
                        smp("/other", 14, 900 * kMiB, kUnlimited)}});
    }
    REQUIRE(h->insert(snaps));
    store::RecommendationRow rec;
    rec.ts_ns = end - 60 * kSec;
    rec.path = "/owview/db";
    rec.request_bytes = 96 * kMiB;
    rec.limit_bytes = 160 * kMiB;
    rec.confidence = "high";
    rec.rationale = "test";
    REQUIRE(h->insert_recommendations(std::span(&rec, 1)));
  }
  std::string audit = "{\"oom_cgroup\":\"/owview/web\",\"added_memory\":33554432,\"adjusted_cgroups\":[],\"ts\":\"" +
                      stats::format_rfc3339(end - 10 * 60 * kSec) +
                      "\",\"trigger\":\"pressure\",\"source\":\"siblings\",\"dry_run\":false,\"result\":\"applied\"}\n";
  REQUIRE(write_file_atomic(tmp / "audit.jsonl", audit));

  const std::string html = tmp / "report.html";
  auto r = owtest::run({owtest::oomwatch_bin(), "report", "--db", tmp / "history.db", "--audit-log", tmp / "audit.jsonl",
                        "--from", "-1h", "--cgroup", "/owview", "--html", html});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto page = read_text(html);
  REQUIRE(page);
  CHECK(has(*page, "/owview/web"));
  CHECK_FALSE(has(*page, "/other"));  // not selected
  CHECK(has(*page, "applied +32MiB from siblings"));
  CHECK(has(*page, "96MiB"));  // the recommendation for /owview/db

  // 1: the DOM after the scripts ran, and the console.
  auto dom = owtest::run(chromium(tmp, {"--dump-dom"}, html), 60);
  INFO(dom.err.substr(0, 4000));
  REQUIRE(dom.exit_code == 0);
  CHECK(has(dom.out, "<div id=\"ow-status\">rendered 4</div>"));  // the four children of /owview
  CHECK(has(dom.out, "<title>oomwatch report: rendered 4 charts</title>"));
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(has(dom.out, "id=\"chart-" + std::to_string(i) + "\" data-rendered=\"1\""));
  }
  CHECK_FALSE(has(dom.out, "id=\"chart-4\""));
  CHECK(has(dom.out, "/owview/&lt;!--&lt;script&gt;"));  // its name, shown as text
  CHECK(dom.out.find("<canvas") != std::string::npos);
  CHECK_FALSE(has(dom.err, "Uncaught"));
  CHECK_FALSE(has(dom.err, ":CONSOLE("));  // nothing logged to the console: no errors, no warnings

  // 2: the screenshot, kept in the build directory for people to look at.
  const std::string png = dir_of(owtest::oomwatch_bin()) + "/view-report.png";
  ::unlink(png.c_str());
  auto shot = owtest::run(chromium(tmp, {"--screenshot=" + png, "--window-size=1300,1500", "--hide-scrollbars"}, html), 60);
  INFO(shot.err.substr(0, 2000));
  CHECK(shot.exit_code == 0);
  auto img = read_text(png);
  REQUIRE(img);
  CHECK(img->size() > 20'000);
  CHECK(img->rfind("\x89PNG", 0) == 0);
}

// [hosttools] as well: a measurement for this machine; 72,000 rows under the
// VM tier's emulation would cost more of its time bound than it tells.
TEST_CASE("report of 24 h x 50 cgroups stays small (downsampled to 500 points each)",
          "[integration][view][hosttools]") {
  TempDir tmp;
  const int64_t end = now_ns() / (60 * kSec) * (60 * kSec), start = end - 86400 * kSec;
  {
    auto h = store::HistoryStore::open(tmp / "history.db");
    REQUIRE(h);
    std::vector<sampler::Snapshot> snaps;
    for (int64_t t = start, i = 0; t <= end; t += 60 * kSec, ++i) {
      sampler::Snapshot s{t, {}};
      for (int c = 0; c < 50; ++c)
        s.samples.push_back(smp("/fleet/c" + std::to_string(c), 100 + c, (100 + (i * 7 + c * 13) % 400) * kMiB + i * 4096,
                                1024 * kMiB));
      snaps.push_back(std::move(s));
    }
    REQUIRE(h->insert(snaps));
    REQUIRE(h->maintain(end));  // older than an hour: 1-minute buckets only, as on a node
  }
  const std::string html = tmp / "report.html";
  auto r = owtest::run({owtest::oomwatch_bin(), "report", "--db", tmp / "history.db", "--audit-log", "none", "--from",
                        "-24h", "--top", "50", "--html", html});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto page = read_text(html);
  REQUIRE(page);
  CHECK(has(*page, "id=\"chart-49\""));
  CHECK(has(r.err, "50 of 50 cgroups"));
  std::fprintf(stderr, "report 24h x 50 cgroups: %zu bytes\n", page->size());
  CHECK(page->size() < 2 * kMiB);
}
