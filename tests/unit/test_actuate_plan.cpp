// No root, no kernel: actuate::Actuator's bookkeeping for cgroup v2 donors on
// a temp tree shaped like cgroupfs v2. memory.current here is a plain file,
// so writing memory.high reclaims nothing: these tests check the decisions
// and the arithmetic (skip, the receiver's cut raise, memory.high put back),
// the intent file's "high" field and its recovery. What the kernel does with
// a real donor (reclaim, no OOM kill) is tested on real v2 cgroups in the VM
// tier: tests/integration/test_actuate_v2.cpp, [actuate_v2], run by the
// scenario actuate_v2_donor in tests/vm/scenarios.sh.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actuate/apply.hpp"
#include "actuate/journal.hpp"
#include "failsafe/restore.hpp"
#include "test_store_tmp.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;

// <root>/<rel>/memory.{max,current,high}, v2 spelling.
struct FakeV2 {
  owtest::TempDir dir;
  cg::Hierarchy h{dir.path + "/cg", cg::Version::V2};
  FakeV2() { REQUIRE(mkdir_p(dir.path + "/cg")); }
  void add(const std::string& rel, uint64_t max, uint64_t current, const std::string& high = "max") {
    REQUIRE(mkdir_p(h.abs(rel)));
    REQUIRE(write_file_atomic(h.abs(rel) + "/memory.max", std::to_string(max) + "\n"));
    REQUIRE(write_file_atomic(h.abs(rel) + "/memory.current", std::to_string(current) + "\n"));
    REQUIRE(write_file_atomic(h.abs(rel) + "/memory.high", high + "\n"));
  }
  void set(const std::string& rel, const char* file, const std::string& v) {
    REQUIRE(write_file_atomic(h.abs(rel) + "/" + file, v + "\n"));
  }
  std::string read(const std::string& rel, const char* file) {
    return std::string(trim(*read_text(h.abs(rel) + "/" + file)));
  }
  std::string intent() const { return dir.path + "/intent.json"; }
};

std::string mib(uint64_t n) { return std::to_string(n * kMiB); }
bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }
}  // namespace

TEST_CASE("intent: the v2 donor's memory.high round-trips; files without \"high\" still read", "[actuate][intent]") {
  std::vector<actuate::IntentEntry> plan{
      {{"/p/d", 200 * kMiB, 100 * kMiB}, 190 * kMiB},
      {{"/p/e", 96 * kMiB, 64 * kMiB}, kUnlimited},
      {{"/p/r", 64 * kMiB, 164 * kMiB, true}, std::nullopt},
  };
  std::string line = actuate::encode_intent(plan);
  auto j = nlohmann::json::parse(line);
  CHECK(j[0]["high"] == 190 * kMiB);
  CHECK(j[1]["high"] == "max");
  CHECK_FALSE(j[2].contains("high"));
  std::vector<actuate::IntentEntry> back;
  REQUIRE(actuate::decode_intent(line, back));
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back[i].change.cgroup == plan[i].change.cgroup);
    CHECK(back[i].change.old_limit_bytes == plan[i].change.old_limit_bytes);
    CHECK(back[i].change.new_limit_bytes == plan[i].change.new_limit_bytes);
    CHECK(back[i].high_bytes == plan[i].high_bytes);
  }
  // The format before "high" existed.
  REQUIRE(actuate::decode_intent(R"([{"cgroup":"/p/a","old":33554432,"new":100663296}])", back));
  REQUIRE(back.size() == 1);
  CHECK(back[0].change.new_limit_bytes == 96 * kMiB);
  CHECK_FALSE(back[0].high_bytes);
  // Torn or foreign: refused, never half-read.
  CHECK_FALSE(actuate::decode_intent(R"([{"cgroup":"/p/a","old":1,"new":2,"high":"lots"}])", back));
  CHECK_FALSE(actuate::decode_intent(R"([{"cgroup":"/p/a","old":1,"new":2,"high":-5}])", back));
  CHECK_FALSE(actuate::decode_intent(R"([{"cgroup":"/p/a","old":1,"ne)", back));
  CHECK(back.empty());
}

TEST_CASE("v2 donor margin: 1 MiB rounded up to whole pages", "[actuate]") {
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  CHECK(actuate::v2_donor_margin_bytes() >= actuate::kV2DonorMarginBytes);
  CHECK(actuate::v2_donor_margin_bytes() % page == 0);
  CHECK(actuate::v2_donor_margin_bytes() - actuate::kV2DonorMarginBytes < page);
}

TEST_CASE("v2 bookkeeping: a donor whose usage stays above the new limit is skipped, the receiver not raised",
          "[actuate][v2logic]") {
  FakeV2 t;
  t.add("/p/d", 200 * kMiB, 120 * kMiB);  // grew since the plan: 120M used, the plan cuts to 100M
  t.add("/p/r", 64 * kMiB, 10 * kMiB);
  actuate::Actuator act(t.h, t.intent());
  auto r = act.apply({{"/p/d", 200 * kMiB, 100 * kMiB}, {"/p/r", 64 * kMiB, 164 * kMiB, true}});
  INFO(r.error);
  CHECK(r.ok);
  CHECK_FALSE(r.rolled_back);
  REQUIRE(r.skipped.size() == 1);
  REQUIRE(r.skip_reasons.size() == 1);
  CHECK(r.skipped[0].cgroup == "/p/d");
  CHECK(r.skipped[0].new_limit_bytes == 100 * kMiB);
  INFO(r.skip_reasons[0]);
  CHECK(r.skip_reasons[0].find("above the new limit") != std::string::npos);
  CHECK(r.withheld_bytes == 100 * kMiB);
  CHECK(r.applied.empty());  // the receiver had nothing left to get: not written
  CHECK(t.read("/p/d", "memory.max") == mib(200));
  CHECK(t.read("/p/d", "memory.high") == "max");
  CHECK(t.read("/p/r", "memory.max") == mib(64));
  CHECK_FALSE(exists(t.intent()));
}

TEST_CASE("v2 bookkeeping: the margin is 1 MiB (page-rounded) below the new limit", "[actuate][v2logic]") {
  const uint64_t margin = actuate::v2_donor_margin_bytes();
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  FakeV2 t;
  t.add("/p/at", 200 * kMiB, 100 * kMiB - margin);          // exactly at new - margin: lowered
  t.add("/p/over", 200 * kMiB, 100 * kMiB - margin + page);  // one page more: skipped
  actuate::Actuator act(t.h, "");
  auto r = act.apply({{"/p/at", 200 * kMiB, 100 * kMiB}, {"/p/over", 200 * kMiB, 100 * kMiB}});
  CHECK(r.ok);
  REQUIRE(r.applied.size() == 1);
  CHECK(r.applied[0].cgroup == "/p/at");
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].cgroup == "/p/over");
  CHECK(t.read("/p/at", "memory.max") == mib(100));
  CHECK(t.read("/p/over", "memory.max") == mib(200));
  CHECK(t.read("/p/at", "memory.high") == "max");
  CHECK(t.read("/p/over", "memory.high") == "max");
}

TEST_CASE("v2 bookkeeping: one donor skipped, one lowered: the receiver gets only what was freed",
          "[actuate][v2logic]") {
  FakeV2 t;
  t.add("/p/d1", 200 * kMiB, 120 * kMiB);                   // skipped (120M > 100M - margin)
  t.add("/p/d2", 100 * kMiB, 20 * kMiB, mib(90));          // lowered 100M -> 60M; a guard at 90M
  t.add("/p/d3", 100 * kMiB, 20 * kMiB, mib(150));         // lowered 100M -> 80M; memory.high above its limit
  t.add("/p/r", 64 * kMiB, 60 * kMiB);
  actuate::Actuator act(t.h, t.intent());
  // Planned raise: 100 + 40 + 20 = 160M; d1's 100M is withheld.
  auto r = act.apply({{"/p/d1", 200 * kMiB, 100 * kMiB},
                      {"/p/d2", 100 * kMiB, 60 * kMiB},
                      {"/p/d3", 100 * kMiB, 80 * kMiB},
                      {"/p/r", 64 * kMiB, 224 * kMiB, true}});
  INFO(r.error);
  REQUIRE(r.ok);
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].cgroup == "/p/d1");
  CHECK(r.withheld_bytes == 100 * kMiB);
  REQUIRE(r.applied.size() == 3);
  CHECK(r.applied[0].cgroup == "/p/d2");
  CHECK(r.applied[1].cgroup == "/p/d3");
  CHECK(r.applied[2].cgroup == "/p/r");
  CHECK(r.applied[2].receiver);
  CHECK(r.applied[2].old_limit_bytes == 64 * kMiB);
  CHECK(r.applied[2].new_limit_bytes == 124 * kMiB);  // 64M + (160M - 100M)
  CHECK(t.read("/p/r", "memory.max") == mib(124));
  CHECK(t.read("/p/d1", "memory.max") == mib(200));
  CHECK(t.read("/p/d1", "memory.high") == "max");
  CHECK(t.read("/p/d2", "memory.max") == mib(60));
  CHECK(t.read("/p/d2", "memory.high") == mib(60));  // min(guard 90M, new 60M)
  CHECK(t.read("/p/d3", "memory.max") == mib(80));
  CHECK(t.read("/p/d3", "memory.high") == mib(150));  // not below the old limit: not a guard, back as it was
}

TEST_CASE("v2 bookkeeping: a skipped donor gets its guard back; a failed write still rolls back memory.high",
          "[actuate][v2logic]") {
  FakeV2 t;
  t.add("/p/d", 200 * kMiB, 150 * kMiB, mib(190));
  t.add("/p/e", 100 * kMiB, 10 * kMiB, mib(95));
  t.add("/p/r", 64 * kMiB, 10 * kMiB);
  actuate::Actuator act(t.h, t.intent());
  SECTION("skipped") {
    auto r = act.apply({{"/p/d", 200 * kMiB, 100 * kMiB}, {"/p/r", 64 * kMiB, 164 * kMiB, true}});
    CHECK(r.ok);
    CHECK(r.skipped.size() == 1);
    CHECK(t.read("/p/d", "memory.high") == mib(190));
    CHECK(t.read("/p/d", "memory.max") == mib(200));
  }
  SECTION("the receiver's write fails: e's cut and memory.high are undone") {
    auto r = act.apply({{"/p/e", 100 * kMiB, 50 * kMiB}, {"/p/gone", 64 * kMiB, 114 * kMiB, true}});
    CHECK_FALSE(r.ok);
    CHECK(r.rolled_back);
    CHECK(r.error.find("/p/gone") != std::string::npos);
    CHECK(r.applied.empty());
    CHECK(t.read("/p/e", "memory.max") == mib(100));
    CHECK(t.read("/p/e", "memory.high") == mib(95));
    CHECK_FALSE(exists(t.intent()));
  }
  SECTION("a donor gone before the plan: the error names it, nothing is left changed") {
    auto r = act.apply({{"/p/e", 100 * kMiB, 50 * kMiB}, {"/p/gone", 64 * kMiB, 32 * kMiB}});
    CHECK_FALSE(r.ok);
    CHECK(r.rolled_back);
    CHECK(r.error.find("/p/gone") != std::string::npos);
    CHECK(t.read("/p/e", "memory.max") == mib(100));
    CHECK(t.read("/p/e", "memory.high") == mib(95));
  }
}

TEST_CASE("v2 bookkeeping: a raise without the receiver flag is written as planned", "[actuate][v2logic]") {
  FakeV2 t;
  t.add("/p/d", 200 * kMiB, 150 * kMiB);
  t.add("/p/r", 64 * kMiB, 10 * kMiB);
  actuate::Actuator act(t.h, "");
  auto r = act.apply({{"/p/d", 200 * kMiB, 100 * kMiB}, {"/p/r", 64 * kMiB, 164 * kMiB}});
  CHECK(r.ok);
  CHECK(r.skipped.size() == 1);
  REQUIRE(r.applied.size() == 1);
  CHECK(t.read("/p/r", "memory.max") == mib(164));
}

TEST_CASE("intent recovery: a v2 donor's memory.high left at the plan's value is put back", "[actuate][intent]") {
  FakeV2 t;
  failsafe::StatePaths p;
  p.state_dir = t.dir.path + "/state";
  p.pin_dir = "";
  p.audit_log = t.dir.path + "/audit.jsonl";
  REQUIRE(mkdir_p(p.state_dir));
  // The agent died after the donor's memory.high write, before its memory.max write.
  t.add("/p/d", 200 * kMiB, 120 * kMiB, mib(100));
  t.add("/p/r", 64 * kMiB, 10 * kMiB);
  std::string plan = actuate::encode_intent({{{"/p/d", 200 * kMiB, 100 * kMiB}, kUnlimited},
                                             {{"/p/r", 64 * kMiB, 164 * kMiB, true}, std::nullopt}});
  SECTION("through restore_node, audited") {
    REQUIRE(write_file_atomic(p.intent(), plan + "\n"));
    auto r = failsafe::restore_node(t.h, p);
    INFO((r.problems.empty() ? "" : r.problems.front()));
    CHECK(r.problems.empty());
    CHECK(r.limits == 1);
    CHECK(t.read("/p/d", "memory.high") == "max");
    CHECK(t.read("/p/d", "memory.max") == mib(200));
    CHECK(t.read("/p/r", "memory.max") == mib(64));
    CHECK_FALSE(exists(p.intent()));
    std::string audit = read_text(p.audit_log).value_or("");  // split_lines returns views into it
    auto lines = split_lines(audit);
    REQUIRE(lines.size() == 1);
    auto j = nlohmann::json::parse(lines[0]);
    CHECK(j["trigger"] == "recovery");
    CHECK(j["result"] == "high_restored");
  }
  SECTION("the Recovered entry") {
    REQUIRE(write_file_atomic(t.intent(), plan + "\n"));
    actuate::Actuator act(t.h, t.intent());
    auto r = act.recover_intent();
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    const auto& x = r->front();
    CHECK(x.cgroup == "/p/d");
    CHECK(x.result == "high_restored");
    CHECK(x.high_restored);
    CHECK(x.high_before_bytes == 100 * kMiB);
    CHECK(x.high_after_bytes == kUnlimited);
    CHECK(x.before_bytes == 200 * kMiB);
    CHECK(x.after_bytes == 200 * kMiB);
  }
  SECTION("after memory.max too: the limit and memory.high are both undone, one entry") {
    t.set("/p/d", "memory.max", mib(100));
    t.set("/p/d", "memory.current", mib(60));
    REQUIRE(write_file_atomic(t.intent(), plan + "\n"));
    actuate::Actuator act(t.h, t.intent());
    auto r = act.recover_intent();
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK(r->front().result == "restored");
    CHECK(r->front().high_restored);
    CHECK(t.read("/p/d", "memory.max") == mib(200));
    CHECK(t.read("/p/d", "memory.high") == "max");
  }
}

TEST_CASE("intent recovery: memory.high someone wrote after the plan is left alone", "[actuate][intent]") {
  FakeV2 t;
  failsafe::StatePaths p;
  p.state_dir = t.dir.path + "/state";
  p.pin_dir = "";
  REQUIRE(mkdir_p(p.state_dir));
  t.add("/p/r", 64 * kMiB, 10 * kMiB);
  SECTION("the agent's own guard: the journal puts back 'max', recovery does not re-arm the guard") {
    t.add("/p/d", 200 * kMiB, 120 * kMiB, mib(100));  // the guard was 190M; the plan wrote 100M, then the crash
    {
      actuate::Journal j(p.journal());
      REQUIRE(j.load());
      REQUIRE(j.remember("/p/d", "memory.high", "max"));
    }
    REQUIRE(write_file_atomic(p.intent(), actuate::encode_intent({{{"/p/d", 200 * kMiB, 100 * kMiB}, 190 * kMiB},
                                                                  {{"/p/r", 64 * kMiB, 164 * kMiB, true}, {}}}) +
                                              "\n"));
    auto r = failsafe::restore_node(t.h, p);
    CHECK(r.problems.empty());
    CHECK(r.settings == 1);
    CHECK(t.read("/p/d", "memory.high") == "max");
  }
  SECTION("an operator's value") {
    t.add("/p/d", 200 * kMiB, 120 * kMiB, mib(150));
    REQUIRE(write_file_atomic(p.intent(), actuate::encode_intent({{{"/p/d", 200 * kMiB, 100 * kMiB}, kUnlimited},
                                                                  {{"/p/r", 64 * kMiB, 164 * kMiB, true}, {}}}) +
                                              "\n"));
    auto r = failsafe::restore_node(t.h, p);
    CHECK(r.problems.empty());
    CHECK(t.read("/p/d", "memory.high") == mib(150));
  }
  SECTION("an intent written before \"high\" existed: memory.high is not touched") {
    t.add("/p/d", 200 * kMiB, 120 * kMiB, mib(100));
    REQUIRE(write_file_atomic(p.intent(), R"([{"cgroup":"/p/d","old":209715200,"new":104857600},)"
                                          R"({"cgroup":"/p/r","old":67108864,"new":171966464}])"
                                          "\n"));
    auto r = failsafe::restore_node(t.h, p);
    CHECK(r.problems.empty());
    CHECK(r.limits == 0);
    CHECK(t.read("/p/d", "memory.high") == mib(100));
    CHECK_FALSE(exists(p.intent()));
  }
}

TEST_CASE("intent recovery: a finished plan keeps its limits; memory.high goes where the plan would have left it",
          "[actuate][intent]") {
  FakeV2 t;
  // The crash came after the donor's memory.max write, the plan's last.
  t.add("/p/d", 100 * kMiB, 40 * kMiB, mib(100));
  actuate::Actuator act(t.h, t.intent());
  SECTION("memory.high was 'max'") {
    REQUIRE(write_file_atomic(t.intent(), actuate::encode_intent({{{"/p/d", 200 * kMiB, 100 * kMiB}, kUnlimited}}) + "\n"));
    auto r = act.recover_intent();
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK(r->front().result == "high_restored");
    CHECK(t.read("/p/d", "memory.high") == "max");
  }
  SECTION("memory.high was a guard above the new limit: min(guard, new) is what the plan leaves") {
    REQUIRE(write_file_atomic(t.intent(), actuate::encode_intent({{{"/p/d", 200 * kMiB, 100 * kMiB}, 190 * kMiB}}) + "\n"));
    auto r = act.recover_intent();
    REQUIRE(r);
    CHECK(r->empty());
    CHECK(t.read("/p/d", "memory.high") == mib(100));
  }
  CHECK(t.read("/p/d", "memory.max") == mib(100));
}
