// The trace report (pure): order by net growth, shares, deltas between
// timeline points, JSON and text with process names as data; and the
// /proc/PID/status parser of the proc-sampling fallback.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "trace/proc_sampler.hpp"
#include "trace/report.hpp"

using namespace ow::trace;

namespace {
constexpr uint64_t kMiB = 1ull << 20;

ProcUsage usage(uint32_t tgid, std::string comm, uint64_t anon_c, uint64_t anon_u, uint64_t slab_c = 0) {
  ProcUsage u;
  u.tgid = tgid;
  u.comm = std::move(comm);
  u.kinds[static_cast<int>(Kind::Anon)] = {anon_c, anon_u};
  u.kinds[static_cast<int>(Kind::Slab)] = {slab_c, 0};
  return u;
}

TraceResult result(Totals t) {
  TraceResult r;
  r.cgroup = "/a";
  r.duration_s = 2;
  r.kinds_measured.fill(true);
  r.totals = std::move(t);
  r.stopped_by = "duration";
  return r;
}
}  // namespace

TEST_CASE("top_rows orders by net growth and shares the positive growth", "[unit][trace]") {
  struct Case {
    const char* name;
    Totals in;
    size_t top;
    std::vector<uint32_t> order;
    std::vector<double> shares;
  };
  std::vector<Case> cases = {
      {"grower first", {{1, usage(1, "a", kMiB, 0)}, {2, usage(2, "b", 9 * kMiB, 0)}}, 0, {2, 1}, {0.9, 0.1}},
      {"shrinker last, no share", {{1, usage(1, "a", 0, 4 * kMiB)}, {2, usage(2, "b", 4 * kMiB, 0)}}, 0, {2, 1}, {1, 0}},
      {"tie by tgid", {{7, usage(7, "a", kMiB, 0)}, {3, usage(3, "b", kMiB, 0)}}, 0, {3, 7}, {0.5, 0.5}},
      {"cut to top", {{1, usage(1, "a", 1, 0)}, {2, usage(2, "b", 2, 0)}, {3, usage(3, "c", 3, 0)}}, 2, {3, 2}, {0.5, 2.0 / 6}},
      {"untouched processes left out", {{1, usage(1, "a", 0, 0)}}, 0, {}, {}},
      {"slab is part of kernel: not in net", {{1, usage(1, "a", 0, 0, kMiB)}}, 0, {1}, {0}},
      {"nobody grew: no shares", {{1, usage(1, "a", 0, kMiB)}}, 0, {1}, {0}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto rows = top_rows(c.in, 2, c.top);
      REQUIRE(rows.size() == c.order.size());
      for (size_t i = 0; i < rows.size(); i++) {
        CHECK(rows[i].usage.tgid == c.order[i]);
        CHECK(rows[i].share == Approx(c.shares[i]));
        CHECK(rows[i].rate_bps == Approx(static_cast<double>(rows[i].net) / 2));
      }
    }
  }
}

TEST_CASE("delta subtracts an earlier cumulative point, new processes whole", "[unit][trace]") {
  Totals a{{1, usage(1, "a", 4 * kMiB, kMiB)}};
  Totals b{{1, usage(1, "a", 6 * kMiB, kMiB)}, {2, usage(2, "b", kMiB, 0)}};
  auto d = delta(b, a);
  REQUIRE(d.size() == 2);
  CHECK(d[1].kinds[0].charged == 2 * kMiB);
  CHECK(d[1].kinds[0].uncharged == 0);
  CHECK(d[2].net() == static_cast<int64_t>(kMiB));
}

TEST_CASE("JSON report: method, kinds measured, timeline deltas, names as data", "[unit][trace]") {
  auto r = result({{5, usage(5, std::string("ev\x01l\xff", 5), 3 * kMiB, 0)}});
  r.method = Method::ProcSampling;
  r.kinds_measured = {true, true, true, false, false};
  r.timeline = {{1, {{5, usage(5, "x", kMiB, 0)}}}, {2, {{5, usage(5, "x", 3 * kMiB, 0)}}}};
  auto j = to_json(r, 10);
  CHECK(j["method"] == "proc-sampling");
  CHECK(j["kinds"].dump() == nlohmann::json({"anon", "file", "shmem"}).dump());
  CHECK(!j.contains("events"));
  REQUIRE(j["processes"].size() == 1);
  CHECK(j["processes"][0]["comm"] == "ev\\x01l\\xff");
  CHECK(!j["processes"][0]["kinds"].contains("kernel"));
  CHECK(j["processes"][0]["kinds"]["anon"]["net_bytes"] == 3 * kMiB);
  REQUIRE(j["timeline"].size() == 2);
  CHECK(j["timeline"][0]["net_bytes"] == kMiB);
  CHECK(j["timeline"][1]["net_bytes"] == 2 * kMiB);
  CHECK(j["timeline"][1]["top"][0]["tgid"] == 5);
  CHECK(j["net_bytes"] == 3 * kMiB);
  CHECK(j.dump().find('\x01') == std::string::npos);

  r.method = Method::Tracepoints;
  r.mode = "tp_btf";
  r.events = 42;
  auto t = to_json(r, 10);
  CHECK(t["method"] == "tracepoints");
  CHECK(t["events"] == 42);
  CHECK(t["mode"] == "tp_btf");
}

TEST_CASE("text report: header, one line per process, escaped names, empty case", "[unit][trace]") {
  auto r = result({{5, usage(5, "a\nb\x1b[2J", 64 * kMiB, 0)}, {6, usage(6, "idle", 0, 0)}});
  r.drops = 3;
  auto lines = to_text(r, 10);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("tracepoints") != std::string::npos);
  CHECK(lines[1].find("3 charges lost") != std::string::npos);
  CHECK(lines[3].find("+64MiB") != std::string::npos);
  CHECK(lines[3].find("a\\x0ab\\x1b[2J") != std::string::npos);
  for (const auto& l : lines) CHECK(l.find('\x1b') == std::string::npos);
  auto empty = to_text(result({}), 10);
  CHECK(empty.back() == "no charges seen");
}

TEST_CASE("parse_status reads RssAnon, RssFile, RssShmem and Name", "[unit][trace]") {
  auto s = parse_status("Name:\tmy proc\nUmask:\t0022\nVmRSS:\t   300 kB\nRssAnon:\t     100 kB\nRssFile:\t  150 kB\n"
                        "RssShmem:\t50 kB\n");
  REQUIRE(s);
  CHECK(s->comm == "my proc");
  CHECK(s->anon == 100 * 1024);
  CHECK(s->file == 150 * 1024);
  CHECK(s->shmem == 50 * 1024);
  CHECK_FALSE(parse_status("Name:\tkthreadd\nState:\tS (sleeping)\n"));  // kernel thread
  CHECK_FALSE(parse_status("Name:\tx\nRssAnon:\tgarbage kB\n"));
  auto no_shmem = parse_status("Name:\tx\nRssAnon:\t8 kB\n");
  REQUIRE(no_shmem);
  CHECK(no_shmem->shmem == 0);
}

TEST_CASE("parse_private_dirty reads smaps_rollup's Private_Dirty", "[unit][trace]") {
  auto v = parse_private_dirty("55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  9000 kB\nShared_Dirty:  10 kB\n"
                               "Private_Dirty:   6000 kB\nAnonymous:  7000 kB\n");
  REQUIRE(v);
  CHECK(*v == 6000 * 1024);
  CHECK_FALSE(parse_private_dirty("Rss: 1 kB\n"));
}
