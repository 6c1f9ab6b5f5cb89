// The `top` model (rows, counters since start, growth, sort, filter, tree,
// paging), its text and JSON frames, and the audit lines of the event pane.
#include <catch2/catch.hpp>

#include "test_store_tmp.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

#include "util/units.hpp"
#include "view/agent_inputs.hpp"
#include "view/frame.hpp"
#include "view/model.hpp"

using namespace ow;
using namespace ow::view;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;

sampler::Sample smp(const std::string& path, uint64_t id, uint64_t usage, uint64_t limit = kUnlimited) {
  sampler::Sample s;
  s.cgroup = path;
  s.cgroup_id = id;
  s.usage_bytes = usage;
  s.working_set_bytes = usage / 2;
  s.limit_bytes = limit;
  s.high_bytes = kUnlimited;
  return s;
}

sampler::Snapshot snap(int64_t ts, std::vector<sampler::Sample> v) {
  for (auto& s : v) s.ts_ns = ts;
  return {ts, std::move(v)};
}

std::vector<std::string> paths(const Page& p) {
  std::vector<std::string> out;
  for (const auto& r : p.rows) out.push_back(r.path);
  return out;
}

}  // namespace

TEST_CASE("top sorts by usage, percent of limit, growth and name", "[view][unit]") {
  TopModel m;
  m.update(snap(10 * kSec, {smp("/a", 1, 100 * kMiB, 200 * kMiB), smp("/b", 2, 50 * kMiB, 60 * kMiB),
                            smp("/c", 3, 10 * kMiB)}));
  m.update(snap(12 * kSec, {smp("/a", 1, 100 * kMiB, 200 * kMiB), smp("/b", 2, 52 * kMiB, 60 * kMiB),
                            smp("/c", 3, 30 * kMiB)}));
  struct Case {
    SortKey key;
    std::vector<std::string> want;
  } cases[] = {
      {SortKey::Usage, {"/a", "/b", "/c"}},
      {SortKey::Percent, {"/b", "/a", "/c"}},  // unlimited (-1) last
      {SortKey::Growth, {"/c", "/b", "/a"}},
      {SortKey::Name, {"/a", "/b", "/c"}},
  };
  for (const auto& c : cases) {
    ViewOptions o;
    o.sort = c.key;
    CAPTURE(sort_key_name(c.key));
    CHECK(paths(m.rows(o)) == c.want);
  }
  ViewOptions o;
  o.sort = SortKey::Growth;
  auto p = m.rows(o);
  CHECK(p.rows[0].growth_bps == Approx(10.0 * kMiB));  // 20 MiB in 2 s
  CHECK(p.rows[1].percent == Approx(52.0 * 100 / 60));
  CHECK(p.rows[2].percent == Approx(50.0));
  CHECK(p.rows[2].ws_percent == Approx(25.0));
}

TEST_CASE("top's sort keys parse and cycle", "[view][unit]") {
  CHECK(parse_sort_key("percent") == SortKey::Percent);
  CHECK_FALSE(parse_sort_key("Usage"));
  CHECK_FALSE(parse_sort_key(""));
  SortKey k = SortKey::Usage;
  for (int i = 0; i < 4; ++i) k = next_sort_key(k);
  CHECK(k == SortKey::Usage);
}

TEST_CASE("top filters by path substring, pages, and cuts to --top", "[view][unit]") {
  TopModel m;
  std::vector<sampler::Sample> v;
  for (uint64_t i = 0; i < 3000; ++i) v.push_back(smp("/pod" + std::to_string(i), 100 + i, (i + 1) * kKiB));
  v.push_back(smp("/web", 9, 1));
  m.update(snap(kSec, v));
  ViewOptions o;
  o.top = 10;
  auto p = m.rows(o);
  CHECK(p.total == 3001);
  CHECK(p.matched == 3001);
  REQUIRE(p.rows.size() == 10);
  CHECK(p.rows[0].path == "/pod2999");
  o.offset = 10;
  CHECK(m.rows(o).rows[0].path == "/pod2989");
  o.offset = 5000;  // past the end: an empty page, no crash
  CHECK(m.rows(o).rows.empty());
  o = {};
  o.filter = "web";
  CHECK(paths(m.rows(o)) == std::vector<std::string>{"/web"});
  o.filter = "nothing-has-this";
  CHECK(m.rows(o).matched == 0);
}

TEST_CASE("top's tree puts rows under their nearest shown ancestor, siblings in sort order", "[view][unit]") {
  TopModel m;
  m.update(snap(kSec, {smp("/", 1, 900), smp("/a", 2, 100), smp("/a/x", 3, 10), smp("/a/y", 4, 60),
                       smp("/b", 5, 500), smp("/b/deep/z", 6, 5)}));
  ViewOptions o;
  o.tree = true;
  auto p = m.rows(o);
  CHECK(paths(p) == std::vector<std::string>{"/", "/b", "/b/deep/z", "/a", "/a/y", "/a/x"});
  std::vector<int> depth;
  for (const auto& r : p.rows) depth.push_back(r.depth);
  CHECK(depth == std::vector<int>{0, 1, 2, 1, 2, 2});
  o.filter = "/a/";  // the parent filtered out: children become roots
  p = m.rows(o);
  CHECK(paths(p) == std::vector<std::string>{"/a/y", "/a/x"});
  CHECK(p.rows[0].depth == 0);
}

TEST_CASE("top shows the kernel's MAX and OOM counters, kills before it started included", "[view][unit]") {
  TopModel m;
  auto a = smp("/a", 1, 10);
  a.failcnt = 7;
  a.ev_oom_kill = 2;
  m.update(snap(kSec, {a, smp("/b", 2, 1)}));
  ViewOptions o;
  o.sort = SortKey::Name;
  CHECK(m.rows(o).rows[0].max_events == 7);  // the first frame already says what the kernel counted
  CHECK(m.rows(o).rows[0].oom_kills == 2);
  CHECK(row_cells(m.rows(o).rows[0])[7] == "7");
  CHECK(row_cells(m.rows(o).rows[0])[8] == "2");
  CHECK(m.events().empty());  // kills before top started are counted, not reported as new
  a.failcnt = 10;
  a.ev_oom_kill = 3;
  m.update(snap(2 * kSec, {a, smp("/b", 2, 1)}));
  auto p = m.rows(o);
  CHECK(p.rows[0].max_events == 10);
  CHECK(p.rows[0].oom_kills == 3);
  REQUIRE(m.events().size() == 1);
  CHECK(m.events()[0].detail == "1 kill");
  // Recreated under the same path (new id): its own counters, no event.
  auto a2 = smp("/a", 77, 10);
  a2.ev_oom_kill = 9;
  m.update(snap(3 * kSec, {a2}));
  CHECK(m.rows(o).rows[0].oom_kills == 9);
  CHECK(m.events().size() == 1);
}

TEST_CASE("top --since-start counts max events and OOM kills since start and reports each new kill",
          "[view][unit]") {
  TopModel m(ModelOptions{.since_start = true});
  auto a = smp("/a", 1, 10);
  a.failcnt = 7;
  a.ev_oom_kill = 2;
  m.update(snap(kSec, {a, smp("/b", 2, 1)}));
  a.failcnt = 10;
  a.ev_oom_kill = 3;
  m.update(snap(2 * kSec, {a, smp("/b", 2, 1)}));
  ViewOptions o;
  o.sort = SortKey::Name;
  auto p = m.rows(o);
  CHECK(p.rows[0].max_events == 3);
  CHECK(p.rows[0].oom_kills == 1);
  REQUIRE(m.events().size() == 1);
  CHECK(m.events()[0].cgroup == "/a");
  CHECK(m.events()[0].kind == "oom_kill");
  CHECK(m.events()[0].ts_ns == 2 * kSec);
  // Recreated under the same path (new id): its counters start again, no event.
  auto a2 = smp("/a", 77, 10);
  a2.ev_oom_kill = 9;
  m.update(snap(3 * kSec, {a2}));
  CHECK(m.rows(o).rows[0].oom_kills == 0);
  CHECK(m.events().size() == 1);
  CHECK(m.rows(o).total == 1);  // /b vanished
}

TEST_CASE("top shows - for figures that do not exist: v1 HIGH, first-frame GROW/s, unknown PEAK", "[view][unit]") {
  for (bool v2 : {false, true}) {
    CAPTURE(v2);
    TopModel m(ModelOptions{.has_high = v2});
    auto a = smp("/a", 1, 10 * kMiB, 64 * kMiB);  // high_bytes kUnlimited: what the sampler gives on v1 too
    auto b = smp("/b", 2, 5 * kMiB);
    b.high_bytes = 32 * kMiB;
    m.update(snap(kSec, {a, b}));
    ViewOptions o;
    o.sort = SortKey::Name;
    auto p = m.rows(o);
    auto ca = row_cells(p.rows[0]), cb = row_cells(p.rows[1]);
    CHECK(ca[5] == (v2 ? "max" : "-"));  // HIGH
    CHECK(cb[5] == (v2 ? "32MiB" : "-"));
    CHECK(ca[6] == "-");                 // GROW/s: one snapshot, no rate yet
    CHECK(ca[4] == "-");                 // PEAK 0: unknown
    FrameInfo fi{kSec, "cgroupfs", "name", "", false};
    auto j = json_frame(fi, p, {});
    CHECK(j["rows"][0]["growth_bytes_per_s"].is_null());
    CHECK(j["rows"][0]["peak_bytes"].is_null());
    CHECK(j["rows"][0]["high_bytes"].is_null());
    if (v2) CHECK(j["rows"][1]["high_bytes"] == 32 * kMiB);
    else CHECK(j["rows"][1]["high_bytes"].is_null());
    CHECK(j["rows"][1]["limit_bytes"].is_null());  // no limit: null, never "max"
    a.usage_bytes = 10 * kMiB;
    m.update(snap(2 * kSec, {a, b}));
    auto c2 = row_cells(m.rows(o).rows[0]);
    CHECK(c2[6] == "0");  // a rate now: no change
    CHECK(json_frame(fi, m.rows(o), {})["rows"][0]["growth_bytes_per_s"] == 0.0);
  }
}

TEST_CASE("top shows published GOMEMLIMIT hints by cgroup id", "[view][unit]") {
  TopModel m;
  m.update(snap(kSec, {smp("/a", 1, 10), smp("/b", 2, 5)}));
  m.set_hints({{2, 48 * kMiB}});
  ViewOptions o;
  auto p = m.rows(o);
  CHECK_FALSE(p.rows[0].gomemlimit_bytes);
  CHECK(p.rows[1].gomemlimit_bytes == 48 * kMiB);
  CHECK(row_cells(p.rows[1])[9] == "48MiB");
}

TEST_CASE("top's bar shows working set and usage against the limit", "[view][unit]") {
  CHECK(bar(50, 25, 100, 8) == "[==--    ]");
  CHECK(bar(200, 300, 100, 4) == "[====]");  // over the limit: full, never wider
  CHECK(bar(0, 0, 100, 4) == "[    ]");
  CHECK(bar(1, 1, kUnlimited, 4).empty());
}

TEST_CASE("top's batch and JSON frames carry every column", "[view][unit]") {
  TopModel m;
  auto s = smp("/a\xff", 1, 64 * kMiB, 128 * kMiB);
  s.peak_bytes = 100 * kMiB;
  m.update(snap(kSec, {s}));
  ViewOptions o;
  auto page = m.rows(o);
  FrameInfo fi{kSec, "cgroupfs", "usage", "", false};
  std::vector<Event> ev{{kSec, "/a", "oom_kill", "1 kill", "counters"}};
  std::string text = batch_frame(fi, page, ev, 200);
  CHECK(text.find("USAGE") != std::string::npos);
  CHECK(text.find("64MiB") != std::string::npos);
  CHECK(text.find("50.0") != std::string::npos);
  CHECK(text.find("/a\\xff") != std::string::npos);  // kernel bytes made printable
  CHECK(text.find("oom_kill /a 1 kill (counters)") != std::string::npos);
  auto j = json_frame(fi, page, ev);
  CHECK(j["rows"][0]["usage_bytes"] == 64 * kMiB);
  CHECK(j["rows"][0]["limit_bytes"] == 128 * kMiB);
  CHECK(j["rows"][0]["high_bytes"].is_null());
  CHECK(j["rows"][0]["gomemlimit_bytes"].is_null());
  CHECK(j["events"][0]["kind"] == "oom_kill");
  CHECK(j.dump().find("\\xff") != std::string::npos);
  // A narrow terminal cuts lines, never wraps them.
  std::string small = batch_frame(fi, page, ev, 30);
  for (size_t pos = 0, nl; (nl = small.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    if (pos == 0) continue;  // the summary line is not cut
    CHECK(nl - pos <= 30);
  }
  std::string wide = format_row(page.rows[0], 300, 10);
  CHECK(wide.substr(static_cast<size_t>(bar_column()), 12) == "[===--     ]");  // 64 of 128 MiB, half of it ws
  std::string narrow = format_row(page.rows[0], 30, 10);
  CHECK(narrow.size() == 30);
  Row deep = page.rows[0];
  deep.path = "/kubepods/burstable/pod1234/container-with-a-long-name";
  deep.depth = 1;
  std::string cutl = format_row(deep, bar_column() + 2 + 20, 0);
  CHECK(cutl.size() == static_cast<size_t>(bar_column() + 22));
  CHECK(cutl.substr(static_cast<size_t>(bar_column())) == "  ..r-with-a-long-name");
}

TEST_CASE("lines are cut to the width in characters, never inside a UTF-8 sequence", "[view][unit]") {
  const std::string o = "\xc3\xb8";  // U+00F8, two bytes
  CHECK(text_columns("a" + o + "b") == 3);
  CHECK(text_columns("a\xff" + o) == 3);  // a stray byte is one column
  CHECK(text_head("a" + o + "b", 1) == "a");
  CHECK(text_head("a" + o + "b", 2) == "a" + o);
  CHECK(text_tail("a" + o + "b", 2) == o + "b");
  CHECK(text_tail("a" + o + "b", 1) == "b");
  CHECK(text_tail("ab", 5) == "ab");
  CHECK(text_head("", 3).empty());

  // An event line whose cut falls on the second byte of a character.
  Event e{kSec, "/" + std::string(52, 'g') + o + "tail", "restore", "restored", "audit"};
  FrameInfo fi{kSec, "files", "usage", "", false};
  Page none;
  for (int width = 60; width <= 90; ++width) {
    std::string text = batch_frame(fi, none, {e}, width);
    CHECK(valid_utf8(text));
    size_t ev = text.rfind("\n  ");
    REQUIRE(ev != std::string::npos);
    CHECK(text_columns(std::string_view(text).substr(ev + 1, text.size() - ev - 2)) <= static_cast<size_t>(width));
  }
  // A row's path is cut from the front, where the same can happen.
  Row r;
  r.path = "/" + std::string(3, o[0]) + o + o + o + "/leaf";  // stray bytes, then characters
  for (int width = bar_column() + 4; width < bar_column() + 30; ++width) {
    std::string line = format_row(r, width, 0);
    CHECK(valid_utf8(line));
    CHECK(text_columns(line) <= static_cast<size_t>(width));
  }
  CHECK(format_row(r, bar_column() + 8, 0).substr(static_cast<size_t>(bar_column())) == ".." + o + "/leaf");
}

TEST_CASE("audit lines become pane events; pending and malformed lines do not", "[view][unit]") {
  auto e = parse_audit_line(
      R"({"oom_cgroup":"/a","added_memory":67108864,"adjusted_cgroups":[],"ts":"2026-01-02T03:04:05.678Z",)"
      R"("trigger":"oom_kill","source":"siblings","dry_run":false,"result":"applied"})");
  REQUIRE(e);
  CHECK(e->cgroup == "/a");
  CHECK(e->kind == "oom_kill");
  CHECK(e->detail == "applied +64MiB from siblings");
  CHECK(e->source == "audit");
  CHECK(e->ts_ns == 1767323045678000000LL);
  auto d = parse_audit_line(R"({"oom_cgroup":"/b","ts":"2026-01-02T03:04:05Z","trigger":"pressure","dry_run":true,"result":"planned"})");
  REQUIRE(d);
  CHECK(d->detail == "planned (dry run)");
  // The file's strings are data: an escape sequence in them is shown, not sent.
  auto esc = parse_audit_line(R"({"oom_cgroup":"/c\u001b[2J","ts":"2026-01-02T03:04:05Z","trigger":"t\u0007",)"
                              R"("result":"applied\u001b]0;x","source":"a\tb"})");
  REQUIRE(esc);
  CHECK(esc->kind == "t\\x07");
  CHECK(esc->detail == "applied\\x1b]0;x from a\\x09b");
  CHECK(esc->cgroup == "/c\x1b[2J");  // as written: escaped where it is printed
  CHECK(format_event(*esc) == "2026-01-02T03:04:05Z t\\x07 /c\\x1b[2J applied\\x1b]0;x from a\\x09b (audit)");
  CHECK_FALSE(parse_audit_line(R"({"oom_cgroup":"/a","ts":"2026-01-02T03:04:05Z","result":"pending"})"));
  CHECK_FALSE(parse_audit_line("{not json"));
  CHECK_FALSE(parse_audit_line(R"({"oom_cgroup":"/a"})"));
  CHECK_FALSE(parse_audit_line(R"({"ts":"yesterday"})"));
  CHECK_FALSE(parse_audit_line(""));
  CHECK_FALSE(parse_audit_line("[1,2]"));
}

TEST_CASE("the pane merges counter and audit events by time, newest kept", "[view][unit]") {
  std::deque<Event> c{{3, "/a", "oom_kill", "1 kill", "counters"}, {5, "/a", "oom_kill", "1 kill", "counters"}};
  std::vector<Event> a{{1, "/x", "pressure", "planned", "audit"}, {4, "/a", "oom_kill", "applied", "audit"}};
  auto m = merge_events(c, a, 3);
  REQUIRE(m.size() == 3);
  CHECK(m[0].ts_ns == 3);
  CHECK(m[1].ts_ns == 4);
  CHECK(m[2].ts_ns == 5);
  CHECK(merge_events({}, {}, 5).empty());
}

TEST_CASE("a missing audit log is no events; a directory is an error", "[view][unit]") {
  auto none = read_audit_events("/nonexistent/oomwatch-audit.jsonl", INT64_MIN, INT64_MAX);
  REQUIRE(none);
  CHECK(none->empty());
  auto dir = read_audit_events("/", INT64_MIN, INT64_MAX);
  CHECK_FALSE(dir);
  CHECK(read_hints("/nonexistent", {1, 2}).empty());
}

TEST_CASE("hint files are read by cgroup id; junk and missing ones are skipped", "[view][unit]") {
  owtest::TempDir dir;
  REQUIRE(write_file_atomic(dir / "11", "50331648\n"));
  REQUIRE(write_file_atomic(dir / "12", "garbage\n"));
  REQUIRE(write_file_atomic(dir / "13", ""));
  auto h = read_hints(dir.path, {11, 12, 13, 14});
  REQUIRE(h.size() == 1);
  CHECK(h.at(11) == 48 * kMiB);
}

TEST_CASE("the audit log's tail drops the partial first line and filters by time", "[view][unit]") {
  owtest::TempDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i)
    text += R"({"oom_cgroup":"/c)" + std::to_string(i) + R"(","ts":"2026-01-02T03:04:)" + (i % 60 < 10 ? "0" : "") +
            std::to_string(i % 60) + R"(Z","trigger":"oom_kill","result":"applied"})" + "\n";
  REQUIRE(write_file_atomic(dir / "audit.jsonl", text));
  auto all = read_audit_events(dir / "audit.jsonl", INT64_MIN, INT64_MAX);
  REQUIRE(all);
  CHECK(all->size() == 100);
  auto tail = read_audit_events(dir / "audit.jsonl", INT64_MIN, INT64_MAX, 300);
  REQUIRE(tail);
  REQUIRE_FALSE(tail->empty());
  CHECK(tail->size() < 5);
  CHECK(tail->back().cgroup == "/c99");
  int64_t t5 = all->at(5).ts_ns;
  auto window = read_audit_events(dir / "audit.jsonl", t5, t5);
  REQUIRE(window);
  CHECK(window->size() == 2);  // /c5 and /c65 share the second (the ts wraps at 60)
}

TEST_CASE("top rows carry names: the text keeps the name whole and cuts the path; JSON adds keys at the end",
          "[view][unit]") {
  const std::string uid = "1b6e3c1a-8f2e-4a51-9d37-0c2f6a8e9b10";
  const std::string cid = "4f9c1d2e3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a";
  const std::string pod = "/kubepods/burstable/pod" + uid, ctr = pod + "/" + cid;
  k8s::KubeletNames kn;
  kn.pods_by_uid[uid] = {"shop", "web-1", uid};
  kn.containers_by_id[cid] = {"web-1", "shop", "app", cid};
  TopModel m;
  m.update(snap(1 * kSec, {smp("/other", 1, 10 * kMiB), smp(pod, 2, 20 * kMiB), smp(ctr, 3, 30 * kMiB)}));
  m.set_names({{pod, k8s::identify(pod, kn)}, {ctr, k8s::identify(ctr, kn)}});
  auto page = m.rows({});
  REQUIRE(paths(page) == std::vector<std::string>{ctr, pod, "/other"});
  CHECK(page.rows[0].name == "shop/web-1/app");
  CHECK(page.rows[1].name == "shop/web-1");
  CHECK(page.rows[2].name.empty());
  // The filter matches the name as well as the path.
  ViewOptions f;
  f.filter = "web-1/app";
  CHECK(paths(m.rows(f)) == std::vector<std::string>{ctr});

  std::string line = format_row(page.rows[0], 140, 0);
  CHECK(line.size() == 140);
  CHECK(line.find("shop/web-1/app  ..") != std::string::npos);
  CHECK(line.substr(line.size() - 12) == cid.substr(cid.size() - 12));  // the path keeps its end
  CHECK(format_row(page.rows[2], 140, 0).find("/other") != std::string::npos);

  auto j = json_frame({}, page, {});
  auto& r0 = j["rows"][0];
  std::vector<std::string> keys;
  for (auto it = r0.begin(); it != r0.end(); ++it) keys.push_back(it.key());
  REQUIRE(keys.size() == 16);
  CHECK(keys[12] == "gomemlimit_bytes");
  CHECK(keys[13] == "name");
  CHECK(keys[14] == "kubernetes");
  CHECK(keys[15] == "container");
  CHECK(r0["cgroup"] == ctr);
  CHECK(r0["name"] == "shop/web-1/app");
  CHECK(r0["kubernetes"]["container_id"] == cid);
  CHECK(r0["container"].is_null());
  CHECK(j["rows"][2]["name"].is_null());
  CHECK(j["rows"][2]["kubernetes"].is_null());
}
