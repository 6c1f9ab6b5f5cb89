// `oomwatch recommend --backtest`, the real binary: on a checked-in recorded
// trace (tests/traces/) and on a history database written by the store.
#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "stats/time.hpp"
#include "store/history.hpp"
#include "util/fs.hpp"

using nlohmann::json;

namespace {
constexpr uint64_t kMiB = 1 << 20;
constexpr int64_t kS = 1'000'000'000;

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * kS + ts.tv_nsec;
}
}  // namespace

TEST_CASE("recommend --backtest: a recorded trace gives a table per workload and a total", "[integration][recommend][backtest]") {
  const std::string trace = owtest::repo_file("tests/traces/steady.csv");
  auto text = ow::read_text(trace);
  REQUIRE(text.ok());
  size_t samples = std::count(text->begin(), text->end(), '\n') - 1;  // less the header
  auto t = owtest::run({owtest::oomwatch_bin(), "recommend", "--backtest", "--backtest-trace", trace});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  INFO(t.out);
  CHECK(t.out.find("steady (" + trace + "): ") == 0);
  CHECK(t.out.find(std::to_string(samples) + " samples, 0 recorded OOM kill(s)") != std::string::npos);
  CHECK(t.out.find("  POLICY   OOMS   NEAR_MIN  WASTE_GIB_H  CHANGES LIMIT_FROM   LIMIT_TO\n") != std::string::npos);
  for (const char* p : {"\n  rules ", "\n  vpa ", "\n  static "}) CHECK(t.out.find(p) != std::string::npos);
  CHECK(t.out.find("total (1 workload(s)):") != std::string::npos);
  // The cache is held at 256Mi under the 512Mi it was recorded with: never near it.
  CHECK(t.out.find("  static      0        0.0") != std::string::npos);

  auto j = owtest::run({owtest::oomwatch_bin(), "recommend", "--backtest", "--backtest-trace", trace, "--format", "json"});
  REQUIRE(j.exit_code == 0);
  auto doc = json::parse(j.out);
  REQUIRE(doc["backtest"].size() == 1);
  const auto& w = doc["backtest"][0];
  INFO(w.dump());
  CHECK(w["samples"] == samples);
  CHECK(w["step"] == "1h");
  CHECK(w["static"]["first_limit_bytes"] == 512 * kMiB);
  CHECK(w["static"]["changes"] == 0);
  CHECK(w["static"]["oom_episodes"] == 0);
  CHECK(w["rules"]["changes"].get<int>() >= 1);
  // The static waste, read again from the file: 512Mi − ws over each sample
  // from the first step (1 h after the first sample) on, held until the next.
  std::vector<std::pair<int64_t, uint64_t>> pts;
  for (auto line : ow::split_lines(*text)) {
    if (line.empty() || line.substr(0, 3) == "ts,") continue;
    std::string l(line);
    auto ts = ow::stats::parse_rfc3339(l.substr(0, l.find(',')));
    REQUIRE(ts.ok());
    pts.emplace_back(*ts, std::stoull(l.substr(l.rfind(',') + 1)));
  }
  double waste = 0;
  for (size_t i = 0; i + 1 < pts.size(); ++i)
    if (pts[i].first >= pts.front().first + 3600 * kS && pts[i].second < 512 * kMiB)
      waste += double(512 * kMiB - pts[i].second) * double(pts[i + 1].first - pts[i].first);
  CHECK(w["static"]["waste_gib_hours"].get<double>() == Approx(waste / (1024.0 * kMiB * 3600 * kS)).margin(0.0005));
  // A tighter static limit: the cache runs into it once and stays there.
  auto tight = owtest::run({owtest::oomwatch_bin(), "recommend", "--backtest", "--backtest-trace", trace, "--format",
                            "json", "--current-limit", "200M"});
  REQUIRE(tight.exit_code == 0);
  CHECK(json::parse(tight.out)["backtest"][0]["static"]["oom_episodes"] == 1);
}

TEST_CASE("recommend --backtest: every checked-in trace, one table each and the total", "[integration][recommend][backtest]") {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "recommend", "--backtest", "--format", "json"};
  size_t n = 0;
  for (const char* t : {"batch", "bursty", "diurnal", "goleak", "jvm", "leak", "steady"}) {
    argv.push_back("--backtest-trace");
    argv.push_back(owtest::repo_file(std::string("tests/traces/") + t + ".csv"));
    ++n;
  }
  auto r = owtest::run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  REQUIRE(doc["backtest"].size() == n);
  uint64_t static_ooms = 0, recorded = 0;
  for (const auto& w : doc["backtest"]) {
    INFO(w.dump());
    CHECK(w["steps"].get<int>() >= 95);  // four compressed days at 1 h
    CHECK(w["static"]["changes"] == 0);
    static_ooms += w["static"]["oom_episodes"].get<uint64_t>();
    recorded += w["recorded_oom_kills"].get<uint64_t>();
  }
  // The two leaks were OOM-killed while recorded: the static limit is the one
  // they ran into, so each real kill is one of its episodes.
  CHECK(recorded >= 2);
  CHECK(static_ooms == recorded);
  CHECK(doc["total"]["workloads"] == n);
  CHECK(doc["total"]["static"]["oom_episodes"] == static_ooms);
}

TEST_CASE("recommend --backtest: bad input is one line", "[integration][recommend][backtest]") {
  owtest::TmpTree dir("owtest-btbad");
  const std::string trace = owtest::repo_file("tests/traces/steady.csv");
  std::ofstream(dir.path + "/junk.csv") << "ts,cgroup,usage_bytes\nyesterday,/a,1\n";
  std::ofstream(dir.path + "/short.csv") << "ts,cgroup,usage_bytes,working_set_bytes\n1700000000,/a,1,1\n1700000060,/a,1,1\n";
  auto bin = owtest::oomwatch_bin();
  struct Bad {
    std::vector<std::string> args;
    int code;
    const char* says;
  };
  const Bad bad[] = {
      {{"--backtest", "--backtest-trace", dir.path + "/none.csv"}, 1, "none.csv"},
      {{"--backtest", "--backtest-trace", dir.path + "/junk.csv"}, 2, "junk.csv:2"},
      {{"--backtest", "--backtest-trace", dir.path + "/short.csv"}, 2, "less than one step"},
      {{"--backtest", "--backtest-trace", trace, "--backtest-step", "0s"}, 2, "--backtest-step: duration must be positive"},
      {{"--backtest", "--backtest-trace", trace, "--backtest-step", "soon"}, 2, "--backtest-step: bad duration"},
      {{"--backtest", "--backtest-trace", trace, "--format", "yaml"}, 2, "--backtest prints --format table or json"},
      {{"--backtest", "--backtest-trace", trace, "--db", dir.path + "/h.db"}, 2, "--backtest-trace reads its files"},
      {{"--backtest", "--backtest-trace", trace, "--current-request", "1G", "--current-limit", "512M"}, 2,
       "--current-request 1G is above --current-limit 512M"},
      {{"--backtest", "--backtest-trace", trace, "--current-limit", "0"}, 2, "--current-limit: must be positive"},
      {{"--backtest", "--replay", "--backtest-trace", trace}, 2, "--replay and --backtest are two reports"},
      {{"--backtest", "--prometheus", "http://127.0.0.1:1"}, 2, "--backtest reads the node's history database"},
      {{"--backtest-trace", trace}, 2, "--backtest"},
  };
  for (const auto& b : bad) {
    std::vector<std::string> argv{bin, "recommend"};
    argv.insert(argv.end(), b.args.begin(), b.args.end());
    auto e = owtest::run(argv);
    INFO(b.says << ": " << e.err);
    CHECK(e.exit_code == b.code);
    CHECK(e.err.find(b.says) != std::string::npos);
    CHECK(std::count(e.err.begin(), e.err.end(), '\n') <= 2);  // the line, and a HINT line at most
    CHECK(e.out.empty());
  }
}

TEST_CASE("recommend --backtest: the node history database, three spikes over a static limit",
          "[integration][recommend][backtest]") {
  owtest::TmpTree dir("owtest-btdb");
  std::string db = dir.path + "/history.db";
  // 2 days ago, 60 samples 10 min apart: ws 100Mi, 300Mi at samples 20-21, 40 and 50; limit 256Mi.
  int64_t t0 = (now_ns() / (86400 * kS) - 2) * 86400 * kS;
  {
    auto h = ow::store::HistoryStore::open(db);
    REQUIRE(h.ok());
    std::vector<ow::sampler::Snapshot> snaps;
    for (int i = 0; i < 60; ++i) {
      ow::sampler::Snapshot s;
      s.ts_ns = t0 + i * 600 * kS;
      ow::sampler::Sample x;
      x.cgroup = "/gone/bt";
      x.cgroup_id = 9;
      x.working_set_bytes = (i == 20 || i == 21 || i == 40 || i == 50 ? 300 : 100) * kMiB;
      x.usage_bytes = x.working_set_bytes + 5 * kMiB;
      x.limit_bytes = 256 * kMiB;
      s.samples.push_back(x);
      snaps.push_back(s);
    }
    REQUIRE(h->insert(snaps).ok());
  }
  std::string from = std::to_string(t0 / kS), to = std::to_string(t0 / kS + 59 * 600);
  auto r = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--backtest", "--from", from, "--to", to,
                        "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  REQUIRE(doc["backtest"].size() == 1);
  const auto& w = doc["backtest"][0];
  INFO(w.dump());
  CHECK(w["name"] == "/gone/bt");
  CHECK(w["samples"] == 60);
  CHECK(w["steps"] == 9);  // 1h .. 9h after the first sample; the last one at 9 h 50 min
  // Steps from 1 h (sample 6) on; against 256Mi the runs {20,21}, {40}, {50}
  // are three episodes, 40 min at or above 90 %, and the 49 other samples
  // that hold 10 min waste 156Mi each (the last sample holds nothing):
  // 49 × 156 / 6 / 1024 = 1.244 GiB·h.
  const auto& s = w["static"];
  CHECK(s["oom_episodes"] == 3);
  CHECK(s["near_limit_minutes"] == 40.0);
  CHECK(s["waste_gib_hours"] == 1.244);
  CHECK(s["changes"] == 0);
  CHECK(doc["total"]["static"]["oom_episodes"] == 3);
  // The default span is the last 7 days: the same samples.
  auto d = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--backtest", "--format", "json"});
  INFO(d.err);
  REQUIRE(d.exit_code == 0);
  CHECK(json::parse(d.out)["backtest"][0]["static"]["oom_episodes"] == 3);
  // The kernel's kill events: one between spikes (at the 256Mi limit: an
  // episode of its own for the static limit), one inside the run {20, 21}
  // (the same episode, not a second one).
  {
    auto h = ow::store::HistoryStore::open(db);
    REQUIRE(h.ok());
    std::vector<ow::store::KillRow> kills(2);
    kills[0] = {t0 + 30 * 600 * kS + 60 * kS, "/gone/bt", "/gone/bt", 256 * kMiB, 256 * kMiB, 4242, false};
    kills[1] = {t0 + 20 * 600 * kS + 60 * kS, "/gone/bt", "/gone/bt", 256 * kMiB, 256 * kMiB, 4243, false};
    REQUIRE(h->insert_kills(kills).ok());
  }
  auto k = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--backtest", "--from", from, "--to", to,
                        "--format", "json"});
  INFO(k.err);
  REQUIRE(k.exit_code == 0);
  const auto kw = json::parse(k.out)["backtest"][0];
  INFO(kw.dump());
  CHECK(kw["recorded_oom_kills"] == 2);
  CHECK(kw["static"]["oom_episodes"] == 4);
  auto none = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--backtest", "--from", "-1h"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("no working-set samples") != std::string::npos);
}
