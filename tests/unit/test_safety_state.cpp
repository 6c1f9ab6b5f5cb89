// No root: bytes as data (text.hpp), the agent's state files on a temp tree
// shaped like cgroupfs (journal, intent recovery, lock, atomic writes,
// symlinks), path normalisation.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "actuate/apply.hpp"
#include "actuate/journal.hpp"
#include "failsafe/lock.hpp"
#include "failsafe/restore.hpp"
#include "test_store_tmp.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;

bool owtest_exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// A v2-shaped tree: <root>/<rel>/memory.{max,current,high}.
struct FakeTree {
  owtest::TempDir dir;
  cg::Hierarchy h{dir.path + "/cg", cg::Version::V2};
  FakeTree() { REQUIRE(mkdir_p(dir.path + "/cg")); }
  void add(const std::string& rel, uint64_t max, uint64_t current) {
    REQUIRE(mkdir_p(h.abs(rel)));
    REQUIRE(write_file_atomic(h.abs(rel) + "/memory.max", std::to_string(max) + "\n"));
    REQUIRE(write_file_atomic(h.abs(rel) + "/memory.current", std::to_string(current) + "\n"));
    REQUIRE(write_file_atomic(h.abs(rel) + "/memory.high", "max\n"));
  }
  std::string read(const std::string& rel, const char* file) { return std::string(trim(*read_text(h.abs(rel) + "/" + file))); }
};
}  // namespace

TEST_CASE("printable: invalid UTF-8 and control bytes become \\xNN, valid text is kept", "[safety][text]") {
  CHECK(printable("tail") == "tail");
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(printable("\xc3\xa9\xc3") == "\xc3\xa9\\xc3");  // comm cut mid-character
  CHECK(printable("a\xff b\"") == "a\\xff b\"");
  CHECK(printable("\x1b[31m") == "\\x1b[31m");  // no terminal escapes
  // C1 controls as UTF-8: CSI (U+009B), OSC (U+009D), ST (U+009C), NEL (U+0085)
  CHECK(printable("a\xc2\x9b" "31mb") == "a\\xc2\\x9b31mb");
  CHECK(printable("\xc2\x9d" "0;x\xc2\x9c") == "\\xc2\\x9d0;x\\xc2\\x9c");
  CHECK(printable("\xc2\x85\xc2\x80\xc2\x9f") == "\\xc2\\x85\\xc2\\x80\\xc2\\x9f");
  CHECK(printable("\xc2\xa0\xc2\xa9") == "\xc2\xa0\xc2\xa9");  // NBSP and (c) are text
  CHECK(printable("sys\\x2dfsck") == "sys\\x2dfsck");  // systemd's own escapes untouched
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate is not UTF-8
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");  // nor an overlong '/'
  CHECK(printable("\xf0\x9f\x90\xb3") == "\xf0\x9f\x90\xb3");
  CHECK(valid_utf8(printable(std::string("\xf4\x90\x80\x80\xfe\x00", 6))));
}

TEST_CASE("json_line never throws on bytes; encode_bytes round-trips any path", "[safety][text]") {
  nlohmann::json j{{"comm", std::string("\xc3\xa9\xc3")}, {"cgroup", "/a\xff"}};
  std::string line;
  REQUIRE_NOTHROW(line = json_line(j));
  CHECK(nlohmann::json::parse(line)["cgroup"] == "/a\xef\xbf\xbd");
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    if (i % 7 == 0) s = "hex:" + s;
    auto enc = encode_bytes(s);
    CHECK(valid_utf8(enc));
    std::string back;
    REQUIRE(decode_bytes(enc, back));
    CHECK(back == s);
  }
  std::string out;
  CHECK_FALSE(decode_bytes("hex:zz", out));
  CHECK_FALSE(decode_bytes("hex:abc", out));
}

TEST_CASE("journal: a cgroup path that is not UTF-8 is restored byte for byte", "[safety][journal]") {
  FakeTree t;
  std::string rel = "/p/w\xff \"q";
  t.add("/p", 512 * kMiB, 0);
  t.add(rel, 64 * kMiB, 0);
  std::string jpath = t.dir.path + "/state/journal.json";
  {
    actuate::Journal j(jpath);
    REQUIRE(j.load());
    REQUIRE(j.remember(rel, "memory.high", "max"));
  }
  REQUIRE(write_file_atomic(t.h.abs(rel) + "/memory.high", "60000000\n"));
  actuate::Journal j(jpath);
  REQUIRE(j.load());
  REQUIRE(j.size() == 1);
  auto n = j.restore(t.h);
  REQUIRE(n);
  CHECK(*n == 1);
  CHECK(t.read(rel, "memory.high") == "max");
  CHECK_FALSE(owtest_exists(jpath));
}

TEST_CASE("journal: many settings in one write; the first original of each is kept", "[safety][journal]") {
  FakeTree t;
  for (int i = 0; i < 50; ++i) t.add("/p/c" + std::to_string(i), 64 * kMiB, kMiB);
  std::string jpath = t.dir.path + "/state/journal.json";
  {
    actuate::Journal j(jpath);
    std::vector<actuate::Journal::Entry> es;
    for (int i = 0; i < 50; ++i) es.push_back({"/p/c" + std::to_string(i), "memory.high", "max"});
    REQUIRE(j.remember(es));
    CHECK(j.size() == 50);
    REQUIRE(j.remember({{"/p/c0", "memory.high", "123"}, {"/p/c50", "memory.high", "max"}}));
    CHECK(j.size() == 51);  // c0 keeps "max", c50 is new
    for (int i = 0; i < 50; ++i) REQUIRE(write_text(t.h.abs("/p/c" + std::to_string(i)) + "/memory.high", "1048576"));
  }
  actuate::Journal j(jpath);  // what a crashed agent left: read back from the file
  REQUIRE(j.load());
  CHECK(j.size() == 51);
  auto n = j.restore(t.h);
  REQUIRE(n);
  CHECK(*n == 50);  // /p/c50 does not exist: dropped
  CHECK(t.read("/p/c0", "memory.high") == "max");
  CHECK(t.read("/p/c49", "memory.high") == "max");
  CHECK_FALSE(owtest_exists(jpath));  // emptied
}

TEST_CASE("journal: restore counts what it put back by kind", "[safety][journal]") {
  FakeTree t;
  t.add("/p/a", 64 * kMiB, kMiB);
  t.add("/p/b", 64 * kMiB, kMiB);
  REQUIRE(write_file_atomic(t.h.abs("/p/a") + "/memory.oom_control", "oom_kill_disable 1\n"));
  actuate::Journal j(t.dir.path + "/state/journal.json");
  REQUIRE(j.remember({{"/p/a", "memory.high", "max"}, {"/p/b", "memory.high", "max"},
                      {"/p/a", "memory.oom_control", "0"}, {"/p/gone", "memory.high", "max"}}));
  auto r = j.restore_by_kind(t.h);
  REQUIRE(r);
  CHECK(r->memory_high == 2);      // /p/gone does not exist: not counted
  CHECK(r->oom_kill_disable == 1);
  CHECK(r->total() == 3);
  CHECK(j.empty());
}

TEST_CASE("intent recovery never cuts a limit below usage + margin and audits each limit", "[safety][intent]") {
  FakeTree t;
  t.add("/p/a", 96 * kMiB, 80 * kMiB);   // raised 32M -> 96M; it grew to 80M since
  t.add("/p/b", 192 * kMiB, 20 * kMiB);  // the donor's cut (192M -> 128M) never happened
  t.add("/p/c", 48 * kMiB, 10 * kMiB);   // raised 32M -> 48M, still small: undone fully
  failsafe::StatePaths p;
  p.state_dir = t.dir.path + "/state";
  p.pin_dir = "";
  p.audit_log = t.dir.path + "/audit.jsonl";
  REQUIRE(mkdir_p(p.state_dir));
  nlohmann::json plan = nlohmann::json::array(
      {{{"cgroup", "/p/b"}, {"old", 192 * kMiB}, {"new", 128 * kMiB}},
       {{"cgroup", "/p/a"}, {"old", 32 * kMiB}, {"new", 96 * kMiB}},
       {{"cgroup", "/p/c"}, {"old", 32 * kMiB}, {"new", 48 * kMiB}}});
  REQUIRE(write_file_atomic(p.intent(), plan.dump() + "\n"));

  auto r = failsafe::restore_node(t.h, p);
  INFO((r.problems.empty() ? "" : r.problems.front()));
  CHECK(r.problems.empty());
  CHECK(t.read("/p/a", "memory.max") == std::to_string(88 * kMiB));  // 80M + 8M, not 32M
  CHECK(t.read("/p/b", "memory.max") == std::to_string(192 * kMiB));
  CHECK(t.read("/p/c", "memory.max") == std::to_string(32 * kMiB));
  CHECK_FALSE(owtest_exists(p.intent()));
  auto audit = read_text(p.audit_log);
  REQUIRE(audit);
  auto lines = split_lines(*audit);
  REQUIRE(lines.size() == 2);  // a and c: b was already as before
  for (auto l : lines) {
    auto j = nlohmann::json::parse(l);
    INFO(l);
    CHECK(j["trigger"] == "recovery");
    CHECK(j["dry_run"] == false);
    std::string c = j["oom_cgroup"];
    CHECK(j["limits_after"][c] == (c == "/p/a" ? 88 * kMiB : 32 * kMiB));
    CHECK(j["result"] == (c == "/p/a" ? "kept" : "restored"));
  }
}

TEST_CASE("intent recovery: a plan that was applied in full is left as it is", "[safety][intent]") {
  FakeTree t;
  t.add("/p/a", 96 * kMiB, 10 * kMiB);
  actuate::Actuator act(t.h, t.dir.path + "/intent.json");
  REQUIRE(write_file_atomic(t.dir.path + "/intent.json",
                            R"([{"cgroup":"/p/a","old":33554432,"new":100663296}])"
                            "\n"));
  auto r = act.recover_intent();
  REQUIRE(r);
  CHECK(r->empty());
  CHECK(t.read("/p/a", "memory.max") == std::to_string(96 * kMiB));
}

TEST_CASE("state files: atomic writes and appends never go through a symlink", "[safety][files]") {
  owtest::TempDir d;
  std::string target = d.path + "/target", link = d.path + "/link";
  REQUIRE(write_file_atomic(target, "precious\n"));
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  auto a = append_line_fsync(link, "x");
  REQUIRE_FALSE(a);
  CHECK(a.error().message().find("refusing to follow a symlink at " + link) != std::string::npos);
  REQUIRE_FALSE(create_file(link));
  REQUIRE_FALSE(check_record_file(link, "audit log"));
  REQUIRE(write_file_atomic(link, "new\n"));  // replaces the link itself
  CHECK(*read_text(target) == "precious\n");
  CHECK(*read_text(link) == "new\n");
  struct stat st;
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0777) == kFileMode);
  REQUIRE(append_line_fsync(d.path + "/audit.jsonl", "{}"));
  REQUIRE(::stat((d.path + "/audit.jsonl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == kFileMode);
  REQUIRE(mkdir_p(d.path + "/x/y"));
  REQUIRE(::stat((d.path + "/x/y").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == kDirMode);
}

TEST_CASE("one agent per state dir: the lock is exclusive and names its holder", "[safety][lock]") {
  owtest::TempDir d;
  std::string path = d.path + "/lock";
  auto first = failsafe::AgentLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE(first);
  auto second = failsafe::AgentLock::acquire(path, std::chrono::milliseconds(60));
  REQUIRE_FALSE(second);
  CHECK(second.error().message().find("pid " + std::to_string(::getpid()) + " (") == 0);
  CHECK(second.error().message().find(") holds " + path) != std::string::npos);
  { auto gone = std::move(*first); }  // released: taken over at once
  CHECK(failsafe::AgentLock::acquire(path, std::chrono::milliseconds(0)));
}

TEST_CASE("cgroup paths from config and flags are normalised the same way", "[safety][paths]") {
  cg::Hierarchy h("/sys/fs/cgroup/memory", cg::Version::V1);
  CHECK(*h.normalize("/sys/fs/cgroup/memory/kubepods/") == "/kubepods");
  CHECK(*h.normalize("kubepods//a/") == "/kubepods/a");
  CHECK(*h.normalize("/sys/fs/cgroup/memory") == "/");
  CHECK(*h.normalize("/a/./b") == "/a/b");
  CHECK_FALSE(h.normalize("/a/../b"));
  CHECK_FALSE(h.normalize("/a/.."));
}
