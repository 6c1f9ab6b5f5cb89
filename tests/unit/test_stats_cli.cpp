// `oomwatch stats`, the real binary: the documented output from files and from the
// history database, and each bad input with its exit code (2 usage, 1 environment).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "stats/time.hpp"
#include "store/history.hpp"
#include "test_store_tmp.hpp"
#include "util/fs.hpp"

using owtest::run;

namespace {
owtest::CmdResult stats(const std::vector<std::string>& args) {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "stats"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

// The docs' example (/a: 1, 2, 3) plus a child and a sibling.
std::string seed_file(const owtest::TempDir& d, int64_t t0_s = 1763856000) {
  std::string text;
  auto line = [&](int s, const char* cg, int usage) {
    text += "{\"ts\":" + std::to_string(t0_s + s) + ",\"cgroup\":\"" + cg + "\",\"usage_bytes\":" +
            std::to_string(usage) + "}\n";
  };
  line(0, "/a", 3), line(1, "/a", 1), line(2, "/a", 2);
  line(0, "/a/b", 10), line(1, "/ab", 99);
  std::string p = d / "s.jsonl";
  ::unlink(p.c_str());
  REQUIRE(ow::append_line_fsync(p, text.substr(0, text.size() - 1)).ok());
  return p;
}

void expect_fail(const owtest::CmdResult& r, int code, const std::string& needle) {
  INFO(r.err);
  CHECK(r.exit_code == code);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("oomwatch: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
}
}  // namespace

TEST_CASE("stats --input --json prints the documented object keyed by cgroup", "[stats][cli]") {
  owtest::TempDir d;
  auto r = stats({"--input", seed_file(d), "--cgroup", "a", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.size() == 2);  // /a and /a/b, not /ab
  CHECK(j["/a"] == nlohmann::json::parse(R"({"min_consumption":1,"max_consumption":3,"median_consumption":2,
                                            "p95_consumption":3,"avg_consumption":2,"samples":3})"));
  CHECK(j["/a/b"]["samples"] == 1);
  // Keys in the documented order, and --format json is the same output.
  CHECK(r.out.find(R"("/a":{"min_consumption":1,"max_consumption":3,"median_consumption":2,)") != std::string::npos);
  CHECK(stats({"--input", seed_file(d), "--cgroup", "a", "--format", "json"}).out == r.out);
}

TEST_CASE("stats prints a table for people unless asked for JSON or CSV", "[stats][cli]") {
  owtest::TempDir d;
  auto r = stats({"--input", seed_file(d), "--cgroup", "a"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "       MIN        MAX     MEDIAN        P95        AVG  SAMPLES  CGROUP\n"
        "        1B         3B         2B         3B         2B        3  /a\n"
        "       10B        10B        10B        10B        10B        1  /a/b\n");
  expect_fail(stats({"--input", seed_file(d), "--json", "--format", "csv"}), 2, "--json");
}

TEST_CASE("stats --format csv and a time window", "[stats][cli]") {
  owtest::TempDir d;
  auto r = stats({"--input", seed_file(d), "--format", "csv", "--from", "2025-11-23T00:00:01Z", "--to", "1763856001"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "cgroup,min_consumption,max_consumption,median_consumption,p95_consumption,avg_consumption,samples\n"
        "/a,1,1,1,1,1,1\n/ab,99,99,99,99,99,1\n");
}

TEST_CASE("stats takes relative times like -30m as values", "[stats][cli]") {
  owtest::TempDir d;
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  auto r = stats({"--input", seed_file(d, now_s.count() - 600), "--from", "-30m", "--to", "now", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["/a"]["samples"] == 3);
  auto eq = stats({"--input", seed_file(d, now_s.count() - 600), "--from=-1m"});
  expect_fail(eq, 2, "empty window");
}

TEST_CASE("stats bad input: usage errors exit 2 naming the problem", "[stats][cli]") {
  owtest::TempDir d;
  std::string f = seed_file(d);
  expect_fail(stats({"--input", f, "--cgroup", "/nope"}), 2, "unknown cgroup /nope");
  expect_fail(stats({"--input", f, "--from", "2025-11-24T00:00:00Z", "--to", "2025-11-25T00:00:00Z"}), 2, "empty window");
  expect_fail(stats({"--input", f, "--from", "2030-01-01T00:00:00Z"}), 2, "before");  // --to defaults to now
  expect_fail(stats({"--input", f, "--from", "1763856002", "--to", "1763856001"}), 2, "before");
  expect_fail(stats({"--input", f, "--from", "yesterday"}), 2, "'yesterday'");
  expect_fail(stats({"--input", f, "--format", "xml"}), 2, "xml");
  expect_fail(stats({"--input", f, "--db", d / "h.db"}), 2, "excludes");
}

TEST_CASE("stats unreadable or damaged input exits 1 naming file and line", "[stats][cli]") {
  owtest::TempDir d;
  expect_fail(stats({"--input", d / "missing.jsonl"}), 1, "missing.jsonl");
  std::string cut = d / "cut.csv";
  REQUIRE(ow::append_line_fsync(cut, "ts,cgroup,usage_bytes\n2025-11-23T00:00:00Z,/a,100").ok());
  REQUIRE(ow::append_line_fsync(cut, "2025-11-23T00:00:01Z,/a,1x").ok());
  expect_fail(stats({"--input", cut}), 1, cut + ":3:");
}

TEST_CASE("stats --db reads the history store; missing or corrupt databases exit 1", "[stats][cli]") {
  owtest::TempDir d;
  std::string db = d / "h.db";
  {
    auto h = ow::store::HistoryStore::open(db);
    REQUIRE(h.ok());
    for (int i = 0; i < 3; ++i) {
      ow::sampler::Snapshot s;
      s.ts_ns = (1763856000LL + i) * 1'000'000'000;
      s.samples = {ow::sampler::Sample{0, 9, "/a", static_cast<uint64_t>(i + 1) << 20}};
      REQUIRE(h->insert(s).ok());
    }
  }
  auto r = stats({"--db", db, "--from", "1763856000", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["/a"]["median_consumption"] == 2 << 20);
  CHECK(j["/a"]["samples"] == 3);
  expect_fail(stats({"--db", db, "--cgroup", "/b"}), 2, "unknown cgroup /b");
  expect_fail(stats({"--db", d / "none.db"}), 1, "none.db");
  std::string junk = d / "junk.db";
  REQUIRE(ow::append_line_fsync(junk, std::string(4096, 'z')).ok());
  expect_fail(stats({"--db", junk}), 1, "not a database");
}
