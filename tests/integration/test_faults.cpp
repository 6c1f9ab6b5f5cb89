// Root, real cgroups (v1 here, v2 in the VM tier): faults in the middle of
// what the agent does. The agent SIGKILLed at each step of a plan, a cgroup
// removed mid-plan, a limit write the kernel refuses (EBUSY), a full audit
// disk, a read-only state dir. Each ends with nothing paused or guarded, no
// limit below usage, every change audited, and a clear message.
#include <catch2/catch.hpp>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actuate/apply.hpp"
#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

using nlohmann::json;
using ow::cg::Hierarchy;
using ow::cg::ScopedCgroup;

namespace {
constexpr uint64_t kMiB = 1 << 20;

struct TempDir : owtest::TmpTree {
  TempDir() : TmpTree("owtest-faults") {}
  ~TempDir() { ::umount2((path + "/ro").c_str(), MNT_DETACH); }  // before the tree is removed
};

using owtest::armed;
using owtest::child;

std::vector<json> audit(const std::string& path) { return owtest::json_file_lines(path); }

std::vector<std::string> run_argv(const TempDir& d, const std::vector<std::string>& extra,
                                  const std::string& audit_log = "") {
  std::vector<std::string> a{owtest::oomwatch_bin(), "run",       "--interval",            "100ms", "--db",
                             "none",                 "--pin-dir", "none",                  "--state-dir",
                             d.path + "/state",      "--audit-log", audit_log.empty() ? d.path + "/audit.jsonl" : audit_log,
                             "--donor-min-history", "300ms"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

bool ready(const TempDir& d, int pid) {
  return owtest::wait_for([&] { return owtest::exists(d.path + "/state/ready") || !owtest::alive(pid); }, 30000) &&
         owtest::alive(pid);
}

// A process holding `size` of anon memory in rel until killed.
std::unique_ptr<owtest::Background> hold_in(const std::string& rel, const char* size) {
  return owtest::start({owtest::oomwatch_bin(), "test-memory", "--json", "--cgroup", rel, "--alloc", size, "--hold",
                        "1h"});
}

}  // namespace

TEST_CASE("the agent SIGKILLed at each step of a plan leaves the node consistent", "[integration][faults]") {
  const char* point = nullptr;
  SECTION("after the pending audit line") { point = "plan_audited"; }
  SECTION("after the intent") { point = "intent_written"; }
  SECTION("after the first limit write") { point = "limit_written"; }
  SECTION("after the last limit write") { point = "plan_written"; }
  INFO(point);
  auto h = owtest::hierarchy();
  // Strict: the parent is fully reserved, so the grant comes from idle b
  // (two writes: b lowered, then a raised).
  auto parent = owtest::make_cgroup(256 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 64 * kMiB);
  auto b = child(h, parent.path(), "b", 192 * kMiB);
  TempDir d;
  ::setenv("OOMWATCH_FAULT", point, 1);
  auto ag = owtest::start(run_argv(d, {"--enforce", "--manage", parent.path(), "--reservation", "strict"}));
  ::unsetenv("OOMWATCH_FAULT");
  INFO(ag->err());
  REQUIRE(ready(d, ag->pid));
  int guard = owtest::guardian_of(ag->pid);
  REQUIRE(guard > 0);
  ::usleep(500'000);  // a few samples, so b has a median to compare with
  auto load = hold_in(a.path(), "72M");
  int st = 0;
  REQUIRE(owtest::wait_for([&] { return ::waitpid(ag->pid, &st, WNOHANG) == ag->pid; }, 20000));
  ag->pid = -1;
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGKILL);
  // The guardian puts everything back (measured within 1 s; the deadline
  // here only ends a wait that fails).
  CHECK(owtest::wait_for([&] { return !armed(h, a.path()) && !armed(h, b.path()); }, 10000));
  CHECK(owtest::wait_for([&] { return !owtest::exists(d.path + "/state/intent.json"); }, 10000));
  CHECK(owtest::wait_for([&] { return !owtest::alive(guard); }, 10000));  // its audit lines are written
  load->stop();
  for (const auto* c : {&a, &b}) {
    INFO(c->path());
    CHECK(*h.limit(c->path()) >= *h.usage(c->path()));
  }
  CHECK(*h.limit(a.path()) + *h.limit(b.path()) <= 256 * kMiB);  // strict still holds
  INFO(ow::read_text(d.path + "/audit.jsonl").value_or("(no audit)"));
  auto lines = audit(d.path + "/audit.jsonl");
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.front()["result"] == "pending");  // audited before the first write
  bool recovered = false;
  for (const auto& l : lines) recovered = recovered || l["trigger"] == "recovery";
  // Half-applied plans are undone and audited; a finished one stays as it is.
  CHECK(recovered == (std::string(point) == "limit_written"));
  if (std::string(point) == "plan_audited" || std::string(point) == "intent_written") {
    CHECK(*h.limit(b.path()) == 192 * kMiB);
    CHECK(*h.limit(a.path()) == 64 * kMiB);
  }
}

TEST_CASE("a cgroup removed mid-plan: the writes already made are rolled back", "[integration][faults]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 64 * kMiB);
  std::string gone;
  {
    auto b = child(h, parent.path(), "b", 64 * kMiB);
    gone = b.path();
  }
  TempDir d;
  ow::actuate::Actuator act(h, d.path + "/intent.json");
  auto r = act.apply({{a.path(), 64 * kMiB, 96 * kMiB}, {gone, 64 * kMiB, 32 * kMiB}});
  CHECK_FALSE(r.ok);
  CHECK(r.rolled_back);
  CHECK(r.error.find(gone) != std::string::npos);
  CHECK(*h.limit(a.path()) == 64 * kMiB);
  CHECK_FALSE(owtest::exists(d.path + "/intent.json"));
}

TEST_CASE("v1 refuses a limit below usage (EBUSY): the plan is rolled back", "[integration][faults]") {
  auto h = owtest::hierarchy();
  if (h.version() != ow::cg::Version::V1) {
    SUCCEED("v2 reclaims and OOM-kills instead of refusing; the agent never cuts below usage + margin there");
    return;
  }
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 64 * kMiB);
  auto b = child(h, parent.path(), "b", 128 * kMiB);
  auto load = hold_in(b.path(), "48M");
  REQUIRE(owtest::wait_for([&] { return *h.usage(b.path()) >= 48 * kMiB; }, 20000));
  TempDir d;
  ow::actuate::Actuator act(h, d.path + "/intent.json");
  auto r = act.apply({{a.path(), 64 * kMiB, 96 * kMiB}, {b.path(), 128 * kMiB, 16 * kMiB}});
  INFO(r.error);
  CHECK_FALSE(r.ok);
  CHECK(r.rolled_back);
  CHECK(r.error.find("Device or resource busy") != std::string::npos);
  CHECK(*h.limit(a.path()) == 64 * kMiB);
  CHECK(*h.limit(b.path()) == 128 * kMiB);
  CHECK(owtest::alive(load->pid));  // nothing was killed by the refused cut
}

TEST_CASE("a full audit disk: no unaudited change, nothing left paused, the agent stays up", "[integration][faults]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 32 * kMiB);
  TempDir d;
  // A disk that is full: a small tmpfs, the audit log made on it, then the
  // rest of it filled. Every append to the audit log gets ENOSPC.
  std::string disk = d.path + "/disk", audit = disk + "/audit.jsonl";
  REQUIRE(ow::mkdir_p(disk));
  REQUIRE(::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k,mode=0755") == 0);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{disk};
  REQUIRE(ow::write_file_atomic(audit, ""));
  owtest::run({"dd", "if=/dev/zero", "of=" + disk + "/fill", "bs=4k"});  // ends at ENOSPC
  REQUIRE_FALSE(ow::append_line(audit, "{}"));
  auto ag = owtest::start(run_argv(d, {"--enforce", "--manage", parent.path()}, audit));
  INFO(ag->err());
  REQUIRE(ready(d, ag->pid));
  auto r = owtest::run({owtest::oomwatch_bin(), "test-memory", "--json", "--cgroup", a.path(), "--alloc", "64M"});
  CHECK(r.out.find("\"oom_killed\":true") != std::string::npos);  // as without the agent
  CHECK(*h.limit(a.path()) == 32 * kMiB);
  CHECK(ag->err().find("the audit log cannot be written") != std::string::npos);
  CHECK(owtest::alive(ag->pid));
  if (h.version() == ow::cg::Version::V1) CHECK_FALSE(h.events(a.path())->under_oom);
  ag->stop();
  CHECK_FALSE(armed(h, a.path()));
}

TEST_CASE("a read-only state dir stops the agent at start with the path in the message", "[integration][faults]") {
  TempDir d;
  std::string ro = d.path + "/ro";
  REQUIRE(ow::mkdir_p(ro));
  REQUIRE(::mount("tmpfs", ro.c_str(), "tmpfs", MS_RDONLY, "size=64k,mode=0755") == 0);
  auto r = owtest::run({owtest::oomwatch_bin(), "run", "--enforce", "--db", "none", "--pin-dir", "none",
                        "--state-dir", ro, "--audit-log", d.path + "/audit.jsonl"},
                       30);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(ro + "/lock") != std::string::npos);
  CHECK(r.err.find("Read-only file system") != std::string::npos);
}

TEST_CASE("a managed child removed and recreated under the same name is armed and rescued again",
          "[integration][faults]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  std::string rel = parent.path() + "/same";
  struct Dir {  // removed on every path (after its tasks are gone)
    const Hierarchy& h;
    std::string rel;
    bool make(uint64_t limit) {
      return h.create(rel).ok() && h.set_limit(rel, limit).ok();
    }
    ~Dir() { ::rmdir(h.abs(rel).c_str()); }
  } dir{h, rel};
  REQUIRE(dir.make(32 * kMiB));
  TempDir d;
  auto ag = owtest::start(run_argv(d, {"--enforce", "--manage", parent.path()}));
  INFO(ag->err());
  REQUIRE(ready(d, ag->pid));
  REQUIRE(armed(h, rel));
  uint64_t old_id = *h.id_of(rel);
  REQUIRE(::rmdir(h.abs(rel).c_str()) == 0);
  REQUIRE(dir.make(32 * kMiB));
  REQUIRE(*h.id_of(rel) != old_id);
  CHECK(owtest::wait_for([&] { return armed(h, rel); }, 5000));
  CHECK(owtest::wait_for([&] { return ag->err().find("a new cgroup has its name") != std::string::npos; }, 5000));
  auto r = owtest::run({owtest::oomwatch_bin(), "test-memory", "--json", "--cgroup", rel, "--alloc", "48M"});
  INFO(r.out);
  CHECK(r.out.find("\"oom_killed\":false") != std::string::npos);
  CHECK(*h.limit(rel) >= 48 * kMiB);
  ag->stop();
  CHECK_FALSE(armed(h, rel));
}
