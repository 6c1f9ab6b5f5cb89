// The /metrics exposition: escaping of label values (arbitrary bytes),
// histograms (cumulative buckets ending in +Inf), counter names, HELP/TYPE
// lines, the cgroup cap, and the listen address parser.
#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <sstream>

#include "metrics/exposition.hpp"
#include "metrics/registry.hpp"
#include "util/listen.hpp"
#include "util/text.hpp"

using namespace ow::metrics;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

CgroupFigures cg(std::string path, uint64_t usage, bool managed = false) {
  CgroupFigures c;
  c.cgroup = std::move(path);
  c.usage_bytes = usage;
  c.managed = managed;
  return c;
}

std::string render_all(std::vector<CgroupFigures> cgs, size_t max = 2000, AgentFigures a = {}) {
  size_t dropped = select_cgroups(cgs, max);
  return render(families(cgs, dropped, a, {1.5, 4096}, {"1.2.3", "abc1234"}));
}

}  // namespace

TEST_CASE("metrics: label values escape backslash, quote and newline; invalid UTF-8 becomes U+FFFD", "[metrics]") {
  struct Row { std::string in, out; };
  const Row rows[] = {
      {"/plain", "/plain"},
      {"/a\\b", "/a\\\\b"},
      {"/q\"uote", "/q\\\"uote"},
      {"/new\nline", "/new\\nline"},
      {"/caf\xc3\xa9", "/caf\xc3\xa9"},                      // valid UTF-8 stays
      {"/bad\xff", "/bad\xef\xbf\xbd"},                      // a stray byte
      {"/cut\xe2\x82", "/cut\xef\xbf\xbd\xef\xbf\xbd"},      // a sequence cut short
      {"/over\xc0\xaf", "/over\xef\xbf\xbd\xef\xbf\xbd"},    // overlong '/'
      {"/sur\xed\xa0\x80", "/sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // a UTF-16 surrogate
      {std::string("/nul\0x", 6), std::string("/nul\0x", 6)},  // NUL is valid UTF-8
  };
  for (const auto& r : rows) {
    INFO(ow::printable(r.in));
    auto e = escape_label_value(r.in);
    CHECK(e == r.out);
    CHECK(ow::valid_utf8(e));
  }
  CHECK(escape_help("a\\b\nc") == "a\\\\b\\nc");
}

TEST_CASE("metrics: a cgroup name of arbitrary bytes renders one well-formed line per sample", "[metrics]") {
  std::string name = "/pod\"x\"\\y\nz\xff\xfe";
  auto out = render_all({cg(name, 100)});
  CHECK(ow::valid_utf8(out));
  bool found = false;
  for (const auto& l : lines_of(out))
    if (l.rfind("oomwatch_cgroup_memory_usage_bytes{", 0) == 0) {
      found = true;
      CHECK(l == "oomwatch_cgroup_memory_usage_bytes{cgroup=\"/pod\\\"x\\\"\\\\y\\nz\xef\xbf\xbd\xef\xbf\xbd\"} 100");
    }
  CHECK(found);
}

TEST_CASE("metrics: values are integers without a fraction, and special floats", "[metrics]") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(16777216) == "16777216");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
}

TEST_CASE("metrics: histogram buckets are cumulative and end in +Inf, with _sum and _count", "[metrics]") {
  Histogram h({0.001, 0.01, 0.1});
  for (double v : {0.0005, 0.001, 0.005, 0.05, 0.05, 3.0}) h.observe(v);
  Family f;
  f.name = "x_seconds";
  f.help = "x";
  f.type = Type::histogram;
  f.histograms.push_back({{}, h});
  CHECK(render({f}) ==
        "# HELP x_seconds x\n"
        "# TYPE x_seconds histogram\n"
        "x_seconds_bucket{le=\"0.001\"} 2\n"  // le is inclusive
        "x_seconds_bucket{le=\"0.01\"} 3\n"
        "x_seconds_bucket{le=\"0.1\"} 5\n"
        "x_seconds_bucket{le=\"+Inf\"} 6\n"
        "x_seconds_sum 3.1065\n"
        "x_seconds_count 6\n");
  Family g = f;
  g.histograms[0].first = {{"k", "v"}};
  CHECK(render({g}).find("x_seconds_bucket{k=\"v\",le=\"+Inf\"} 6\n") != std::string::npos);
}

TEST_CASE("metrics: every family has HELP and TYPE before its samples; counters end in _total", "[metrics]") {
  AgentFigures a;
  a.actions[{"oom_pending", "siblings", "applied"}] = 2;
  a.actions[{"oom_kill", "none", "global"}] = 1;
  a.prevented_kills = 2;
  a.snapshot_interval_seconds = 3;
  a.cpu_budget_ratio = 0.01;
  a.cpu_used_ratio = 0.0125;
  a.rescue_latency.observe(0.003);
  auto c = cg("/k/a", 10 << 20, true);
  c.limit_bytes = 64 << 20;
  c.peak_bytes = 12 << 20;
  c.high_bytes = 60 << 20;
  c.oom_kills = 3;
  c.max_events = 7;
  c.gomemlimit_bytes = 50 << 20;
  c.ebpf_bytes = 4096;
  auto out = render_all({c, cg("/k/b", 1)}, 2000, a);
  std::set<std::string> typed;
  std::string last_help;
  for (const auto& l : lines_of(out)) {
    REQUIRE(!l.empty());
    if (l.rfind("# HELP ", 0) == 0) {
      last_help = l.substr(7, l.find(' ', 7) - 7);
      continue;
    }
    if (l.rfind("# TYPE ", 0) == 0) {
      std::istringstream in(l.substr(7));
      std::string name, type;
      in >> name >> type;
      CHECK(name == last_help);
      CHECK(typed.insert(name).second);  // one TYPE per family
      if (type == "counter") CHECK(name.size() > 6);
      if (type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
      continue;
    }
    std::string metric = l.substr(0, l.find_first_of("{ "));
    bool known = typed.count(metric) > 0;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!known && metric.size() > std::strlen(suffix) &&
          metric.compare(metric.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        known = typed.count(metric.substr(0, metric.size() - std::strlen(suffix))) > 0;
    INFO(l);
    CHECK(known);
  }
  for (const char* name :
       {"oomwatch_cgroup_memory_usage_bytes", "oomwatch_cgroup_memory_working_set_bytes",
        "oomwatch_cgroup_memory_limit_bytes", "oomwatch_cgroup_memory_peak_bytes", "oomwatch_cgroup_memory_high_bytes",
        "oomwatch_cgroup_oom_kills_total", "oomwatch_cgroup_memory_max_events_total",
        "oomwatch_cgroup_gomemlimit_hint_bytes", "oomwatch_cgroup_ebpf_memory_bytes", "oomwatch_actions_total",
        "oomwatch_prevented_oom_kills_total", "oomwatch_rescue_latency_seconds", "oomwatch_oom_kill_events_total",
        "oomwatch_ringbuf_dropped_events_total",
        "oomwatch_snapshots_total", "oomwatch_snapshot_duration_seconds", "oomwatch_snapshot_interval_seconds",
        "oomwatch_cpu_budget_ratio", "oomwatch_cpu_used_ratio", "oomwatch_tracked_cgroups",
        "oomwatch_metrics_cgroups_dropped", "process_cpu_seconds_total", "process_resident_memory_bytes",
        "oomwatch_heap_bytes", "oomwatch_sqlite_memory_bytes", "oomwatch_build_info"}) {
    INFO(name);
    CHECK(typed.count(name) == 1);
  }
  // The recommender's family is a hook: absent until something fills it.
  CHECK(typed.count("oomwatch_cgroup_recommended_limit_bytes") == 0);
  CHECK(out.find("oomwatch_actions_total{trigger=\"oom_pending\",source=\"siblings\",result=\"applied\"} 2\n") !=
        std::string::npos);
  CHECK(out.find("oomwatch_build_info{version=\"1.2.3\",commit=\"abc1234\"} 1\n") != std::string::npos);
  CHECK(out.find("process_resident_memory_bytes 4096\n") != std::string::npos);
  CHECK(out.find("process_cpu_seconds_total 1.5\n") != std::string::npos);
  CHECK(out.find("oomwatch_snapshot_interval_seconds 3\n") != std::string::npos);
  CHECK(out.find("oomwatch_cpu_budget_ratio 0.01\n") != std::string::npos);
  CHECK(out.find("oomwatch_cpu_used_ratio 0.0125\n") != std::string::npos);
  CHECK(out.find("oomwatch_cgroup_memory_limit_bytes{cgroup=\"/k/a\"} 67108864\n") != std::string::npos);
  CHECK(out.find("oomwatch_cgroup_oom_kills_total{cgroup=\"/k/a\"} 3\n") != std::string::npos);
  CHECK(out.find("oomwatch_rescue_latency_seconds_bucket{le=\"0.0025\"} 0\n") != std::string::npos);
  CHECK(out.find("oomwatch_rescue_latency_seconds_bucket{le=\"0.005\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: unlimited limits, no memory.high and unknown peaks are left out, not rendered as 2^64", "[metrics]") {
  auto out = render_all({cg("/u", 5)});
  CHECK(out.find("oomwatch_cgroup_memory_usage_bytes{cgroup=\"/u\"} 5\n") != std::string::npos);
  CHECK(out.find("oomwatch_cgroup_memory_limit_bytes") == std::string::npos);
  CHECK(out.find("oomwatch_cgroup_memory_high_bytes") == std::string::npos);
  CHECK(out.find("oomwatch_cgroup_memory_peak_bytes") == std::string::npos);
  CHECK(out.find("oomwatch_cgroup_gomemlimit_hint_bytes") == std::string::npos);
  CHECK(out.find("1.8446744") == std::string::npos);
}

TEST_CASE("metrics: kubernetes labels come first when known", "[metrics]") {
  auto c = cg("/kubepods/pod1/ctr", 1);
  c.k8s_namespace = "default";
  c.pod = "web-0";
  c.container = "app";
  auto out = render_all({c});
  CHECK(out.find("oomwatch_cgroup_memory_usage_bytes{namespace=\"default\",pod=\"web-0\",container=\"app\","
                 "cgroup=\"/kubepods/pod1/ctr\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: the cgroup cap keeps managed cgroups, then the largest, and says how many were dropped",
          "[metrics]") {
  std::vector<CgroupFigures> cgs = {cg("/a", 100), cg("/b", 300), cg("/m/x", 1, true), cg("/c", 200), cg("/d", 50)};
  size_t dropped = select_cgroups(cgs, 3);
  CHECK(dropped == 2);
  REQUIRE(cgs.size() == 3);
  CHECK(cgs[0].cgroup == "/b");  // sorted by name after the cut
  CHECK(cgs[1].cgroup == "/c");
  CHECK(cgs[2].cgroup == "/m/x");
  auto out = render(families(cgs, dropped, {}, {}, {"v", "c"}));
  CHECK(out.find("oomwatch_metrics_cgroups_dropped 2\n") != std::string::npos);
  CHECK(out.find("cgroup=\"/a\"") == std::string::npos);
  // Two names that escape to the same label value: one is kept, one counted.
  std::vector<CgroupFigures> dup = {cg("/x\xff", 1), cg("/x\xfe", 2)};
  CHECK(select_cgroups(dup, 10) == 1);
  CHECK(dup.size() == 1);
  std::vector<CgroupFigures> none;
  CHECK(select_cgroups(none, 10) == 0);
}

TEST_CASE("metrics: listen addresses are numeric ADDR:PORT", "[metrics]") {
  auto a = ow::parse_listen("127.0.0.1:9721");
  REQUIRE(a);
  CHECK(a->port == 9721);
  CHECK(!a->v6);
  CHECK(a->str() == "127.0.0.1:9721");
  auto b = ow::parse_listen("[::1]:80");
  REQUIRE(b);
  CHECK(b->v6);
  CHECK(b->str() == "[::1]:80");
  CHECK(ow::parse_listen("0.0.0.0:1"));
  struct Row { const char* in; const char* err; };
  const Row bad[] = {
      {"", "no ':PORT'"},           {"9721", "no ':PORT'"},
      {":9721", "no address"},      {"127.0.0.1:", "not a number"},
      {"127.0.0.1:x", "not a number"}, {"127.0.0.1:65536", "1-65535"},
      {"127.0.0.1:0", "1-65535"},   {"host:80", "not a numeric IPv4"},
      {"[::1:80", "no closing"},    {"[::1]80", "no ':PORT'"},
      {"[zz]:80", "not a numeric IPv6"}, {"::1:80", "needs brackets"},
      {"127.0.0.1:80 ", "not a number"},
  };
  for (const auto& r : bad) {
    INFO(r.in);
    auto e = ow::parse_listen(r.in);
    REQUIRE(!e);
    CHECK_THAT(e.error().message(), Catch::Contains(r.err));
    CHECK(e.error().message().find('\n') == std::string::npos);
  }
}
