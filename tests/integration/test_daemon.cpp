// Root, real cgroups (v1 here, v2 in the VM tier): `oomwatch run` moves memory
// limits to a managed child at its limit, writes nothing without
// --enforce or outside --manage, and leaves nothing paused or throttled.
#include <catch2/catch.hpp>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

using nlohmann::json;
using ow::cg::Hierarchy;
using ow::cg::ScopedCgroup;

namespace {
constexpr uint64_t kMiB = 1 << 20;

struct TempDir : owtest::TmpTree {
  TempDir() : TmpTree("owtest-daemon") {}
};

using owtest::child;

// ordered_json: the audit's key order is part of its contract.
std::vector<nlohmann::ordered_json> audit(const std::string& path) {
  return owtest::json_file_lines<nlohmann::ordered_json>(path);
}

// test-memory in an existing cgroup, under that cgroup's own limit.
json hold(const std::string& cgroup, const char* alloc, const char* strategy = "anon", int timeout_s = 60) {
  auto r = owtest::run({owtest::oomwatch_bin(), "test-memory", "--json", "--cgroup", cgroup, "--alloc", alloc,
                        "--strategy", strategy},
                       timeout_s);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = ow::split_lines(r.out);
  REQUIRE_FALSE(lines.empty());
  auto j = json::parse(lines.back());
  REQUIRE(j["type"] == "result");
  return j;
}

using owtest::armed;

// The GOMEMLIMIT hint the daemon published on the cgroup directory (0: none).
uint64_t hint(const Hierarchy& h, const std::string& rel) {
  char buf[64] = {};
  ssize_t n = ::getxattr(h.abs(rel).c_str(), "user.oomwatch.gomemlimit", buf, sizeof buf - 1);
  return n > 0 ? std::strtoull(buf, nullptr, 10) : 0;
}

bool pristine(const Hierarchy& h, const std::string& rel) {
  if (h.version() == ow::cg::Version::V1) {
    auto e = h.events(rel);
    return e && !e->oom_kill_disable && !e->under_oom;
  }
  auto u = h.read(rel);
  return u && u->high_bytes == ow::kUnlimited;
}

struct Daemon {
  TempDir dir;
  std::unique_ptr<owtest::Background> bg;
  std::string audit_log() const { return dir.path + "/audit.jsonl"; }
  std::string state() const { return dir.path + "/state"; }
  int port = owtest::free_port();  // its /metrics: how many snapshots it handled
  void start(const std::vector<std::string>& extra) {
    // --cpu-budget 0: the 100 ms interval the cases count snapshots at (the
    // budget stretches it within seconds in a slow VM guest).
    std::vector<std::string> argv{owtest::oomwatch_bin(), "run",        "--interval",  "100ms", "--cpu-budget", "0",
                                  "--db",                 "none",       "--audit-log", audit_log(),
                                  "--state-dir",          state(),      "--pin-dir",   "none",
                                  "--donor-min-history",  "300ms",      "--listen",    "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    bg = owtest::start(argv);
  }
  // The agent writes STATE/ready once attached and the first snapshot is taken.
  bool ready(int timeout_ms = 30000) const {
    return owtest::wait_for([&] { return owtest::exists(state() + "/ready") || !owtest::alive(bg->pid); }, timeout_ms) &&
           owtest::alive(bg->pid);
  }
  std::string err() const { return bg ? bg->err() : ""; }
};

}  // namespace

TEST_CASE("run --enforce: a child growing past its limit under a parent with headroom is not killed",
          "[integration][daemon]") {
  auto h = owtest::hierarchy();
  auto outside = owtest::make_cgroup(32 * kMiB, "owtest-outside");
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 32 * kMiB);
  auto b = child(h, parent.path(), "b", 64 * kMiB);
  Daemon d;
  d.start({"--enforce", "--hints", "--manage", parent.path()});
  INFO(d.err());
  REQUIRE(d.ready());
  CHECK(armed(h, a.path()));
  CHECK(armed(h, b.path()));
  CHECK(hint(h, a.path()) > 0);
  uint64_t hint_before = hint(h, a.path());
  CHECK(hint_before < 32 * kMiB);

  auto r = hold(a.path(), "96M");
  INFO(r.dump());
  CHECK(r["oom_killed"] == false);
  CHECK(r["exit_code"] == 0);
  CHECK(h.events(a.path())->oom_kill == 0);
  CHECK(*h.limit(a.path()) >= 96 * kMiB);
  CHECK(*h.limit(b.path()) == 64 * kMiB);      // sibling untouched: the parent had room
  CHECK(*h.limit(parent.path()) == 512 * kMiB);  // the parent is never written
  // The hint follows the raised limit at once (on the hint thread, off the rescue path).
  CHECK(owtest::wait_for([&] { return hint(h, a.path()) > hint_before; }, 10000));

  // Each plan's result line follows its writes (and the workload's resumption).
  REQUIRE(owtest::wait_for([&] {
    auto l = audit(d.audit_log());
    return !l.empty() && l.back()["result"] != "pending";
  }, 5000));
  auto lines = audit(d.audit_log());
  for (const auto& l : lines) {
    INFO(l.dump());
    CHECK(l["oom_cgroup"] == a.path());
    CHECK(l["dry_run"] == false);
    CHECK(l["source"] == "global");
    CHECK(l["adjusted_cgroups"].empty());
  }
  CHECK(lines.front().begin().key() == "oom_cgroup");  // the documented keys first
  CHECK(lines.back()["result"] == "applied");

  // Outside --manage: the kernel acts as usual and oomwatch writes nothing.
  auto o = hold(outside.path(), "64M");
  CHECK(o["oom_killed"] == true);
  CHECK(*h.limit(outside.path()) == 32 * kMiB);
  CHECK(pristine(h, outside.path()));

  d.bg->stop();
  CHECK(pristine(h, a.path()));  // oom_kill_disable / memory.high put back on exit
  CHECK(hint(h, a.path()) == 0);  // hints withdrawn
  CHECK(pristine(h, b.path()));
  // One line on stop says what was put back: v1 the children's and the
  // parent's oom_kill_disable, v2 the children's memory.high guards, and the
  // hints of a and b.
  std::string err = d.err();
  auto at = err.find("stopped: restored ");
  REQUIRE(at != std::string::npos);
  std::string line = err.substr(at, err.find('\n', at) - at);
  INFO(line);
  int okd = -1, guards = -1, hints = -1;
  REQUIRE(std::sscanf(line.c_str(), "stopped: restored %d oom_kill_disable, %d memory.high guard%*[s], withdrew %d",
                      &okd, &guards, &hints) == 3);
  if (h.version() == ow::cg::Version::V1) {
    CHECK(okd == 3);  // a, b and the parent (so that new children were born armed)
    CHECK(guards == 0);
  } else {
    CHECK(okd == 0);
    CHECK(guards == 2);
  }
  CHECK(hints >= 2);
  CHECK(line.find("GOMEMLIMIT hints; nothing left changed") != std::string::npos);
  CHECK(err.find("stopped:", at + 1) == std::string::npos);  // one line
}

TEST_CASE("run --enforce: a child full of page cache keeps its limit", "[integration][daemon]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 32 * kMiB);
  Daemon d;
  d.start({"--enforce", "--manage", parent.path()});
  INFO(d.err());
  REQUIRE(owtest::wait_for([&] { return armed(h, a.path()); }, 10000));
  // 96 MiB of file pages through a 32 MiB cgroup: the kernel reclaims cache,
  // nobody is short of memory, and oomwatch must not feed the cache.
  auto r = hold(a.path(), "96M", "file");
  INFO(r.dump());
  CHECK(r["oom_killed"] == false);
  // Three more snapshots handled after the pressure: whatever the agent
  // would decide on it, it has decided.
  REQUIRE(owtest::snapshots_pass(d.port, 3));
  CHECK(*h.limit(a.path()) == 32 * kMiB);
  CHECK(audit(d.audit_log()).empty());
}

TEST_CASE("run --reservation strict: an idle sibling donates and stays above its usage", "[integration][daemon]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 64 * kMiB);
  auto b = child(h, parent.path(), "b", 192 * kMiB);
  Daemon d;
  d.start({"--enforce", "--manage", parent.path(), "--reservation", "strict"});
  INFO(d.err());
  REQUIRE(d.ready());
  REQUIRE(armed(h, a.path()));
  REQUIRE(armed(h, b.path()));
  REQUIRE(owtest::snapshots_pass(d.port, 5));  // b has a median to compare with

  // One grant's worth past the limit: a receiver takes from siblings once per
  // cooldown (no oscillation), so the test stays within one step.
  auto r = hold(a.path(), "72M");
  INFO(r.dump());
  CHECK(r["oom_killed"] == false);
  uint64_t la = *h.limit(a.path()), lb = *h.limit(b.path());
  CHECK(la >= 72 * kMiB);
  CHECK(lb < 192 * kMiB);
  CHECK(lb > *h.usage(b.path()));
  CHECK(la + lb <= 256 * kMiB);  // strict: no overcommit of the parent

  bool donated = false;
  for (const auto& l : audit(d.audit_log())) {
    INFO(l.dump());
    CHECK(l["dry_run"] == false);
    if (l["source"] == "siblings") {
      donated = true;
      REQUIRE(l["adjusted_cgroups"].size() == 1);
      CHECK(l["adjusted_cgroups"][0]["name"] == b.path());
      CHECK(l["adjusted_cgroups"][0]["reduced_memory"].get<uint64_t>() > 0);
    }
  }
  CHECK(donated);
}

TEST_CASE("run --no-rescue: one OOM kill, then a limit that fits", "[integration][daemon]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 32 * kMiB);
  Daemon d;
  d.start({"--enforce", "--no-rescue", "--manage", parent.path()});
  INFO(d.err());
  REQUIRE(d.ready());
  CHECK(pristine(h, a.path()));  // --no-rescue: nothing armed

  auto first = hold(a.path(), "48M");
  CHECK(first["oom_killed"] == true);
  REQUIRE(owtest::wait_for([&] { return *h.limit(a.path()) > 32 * kMiB; }, 5000));
  // The result line follows the limit write.
  REQUIRE(owtest::wait_for([&] { return audit(d.audit_log()).size() >= 2; }, 5000));
  auto lines = audit(d.audit_log());
  CHECK(lines[0]["trigger"] == "oom_kill");
  CHECK(lines[0]["result"] == "pending");  // fsynced before the write
  CHECK(lines[1]["result"] == "applied");
  CHECK(lines[1]["plan_id"] == lines[0]["plan_id"]);

  auto second = hold(a.path(), "48M");
  INFO(second.dump());
  CHECK(second["oom_killed"] == false);
  CHECK(h.events(a.path())->oom_kill == 1);
}

TEST_CASE("run without --enforce writes nothing and audits dry runs", "[integration][daemon]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 32 * kMiB);
  Daemon d;
  d.start({"--manage", parent.path()});
  INFO(d.err());
  REQUIRE(d.ready());
  auto r = hold(a.path(), "48M");
  CHECK(r["oom_killed"] == true);
  CHECK(*h.limit(a.path()) == 32 * kMiB);
  CHECK(pristine(h, a.path()));
  REQUIRE(owtest::wait_for([&] { return !audit(d.audit_log()).empty(); }, 5000));
  for (const auto& l : audit(d.audit_log())) {
    INFO(l.dump());
    CHECK(l["dry_run"] == true);
    CHECK(l["added_memory"].get<uint64_t>() > 0);  // what it would have done
  }
}

TEST_CASE("run killed with SIGKILL: the guardian puts the node back; restart and restore cover a dead guardian",
          "[integration][daemon]") {
  auto h = owtest::hierarchy();
  // No headroom anywhere: the parent is full, so a paused child cannot be helped.
  auto parent = owtest::make_cgroup(40 * kMiB, "owtest-parent");
  auto a = child(h, parent.path(), "a", 32 * kMiB);
  Daemon d;
  d.start({"--enforce", "--manage", parent.path()});
  INFO(d.err());
  REQUIRE(d.ready());
  REQUIRE(armed(h, a.path()));
  int guard = owtest::guardian_of(d.bg->pid);
  REQUIRE(guard > 0);

  SECTION("the guardian restores within 1 s of the agent's death") {
    // Born while it runs, as containers are, and never told apart: a child
    // with a limit (v1: armed by inheritance; v2: a guard), and its child.
    auto b = child(h, parent.path(), "b", 16 * kMiB);
    auto bb = child(h, b.path(), "bb", 8 * kMiB);
    REQUIRE(owtest::wait_for([&] { return armed(h, b.path()); }, 5000));
    ::kill(d.bg->pid, SIGKILL);
    ::waitpid(d.bg->pid, nullptr, 0);
    d.bg->pid = -1;
    CHECK(owtest::wait_for(
        [&] {
          return pristine(h, a.path()) && pristine(h, b.path()) && pristine(h, bb.path()) &&
                 pristine(h, parent.path());
        },
        10000));
    CHECK(owtest::wait_for([&] { return !owtest::alive(guard); }, 10000));  // and then it exits
    auto r = owtest::run({owtest::oomwatch_bin(), "restore", "--state-dir", d.state()});
    CHECK(r.out.find("restored 0 setting") != std::string::npos);  // nothing was left
  }
  SECTION("guardian and agent both SIGKILLed") {
    ::kill(guard, SIGKILL);
    REQUIRE(owtest::wait_for([&] { return !owtest::alive(guard); }, 10000));
    ::kill(d.bg->pid, SIGKILL);
    ::waitpid(d.bg->pid, nullptr, 0);
    d.bg->pid = -1;
    CHECK(armed(h, a.path()));  // nobody was left to clean up: the journal must

    std::unique_ptr<owtest::Background> load;
    if (h.version() == ow::cg::Version::V1) {
      // The child hits its limit with nobody to help: the kernel pauses it.
      auto l = ow::cg::spawn_in(
          h, a.path(),
          {"sh", "-c", "exec \"$0\" test-memory --json --cgroup \"$1\" --alloc 48M --strategy anon >/dev/null",
           owtest::oomwatch_bin(), a.path()});
      REQUIRE(l);
      pid_t pid = *l;
      CHECK(owtest::wait_for([&] { return h.events(a.path())->under_oom; }, 10000));
      SECTION("restart") {
        d.start({"--enforce", "--manage", parent.path()});
        CHECK(owtest::wait_for([&] { return !h.events(a.path())->under_oom; }, 5000));
      }
      SECTION("oomwatch restore") {
        auto r = owtest::run({owtest::oomwatch_bin(), "restore", "--state-dir", d.state()});
        INFO(r.err);
        CHECK(r.exit_code == 0);
        // the parent (armed for its new children) and a
        CHECK(r.out.find("restored 2 setting") != std::string::npos);
        CHECK(owtest::wait_for([&] { return pristine(h, a.path()) && pristine(h, parent.path()); }, 5000));
      }
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    } else {
      auto r = owtest::run({owtest::oomwatch_bin(), "restore", "--state-dir", d.state()});
      INFO(r.err);
      CHECK(r.exit_code == 0);
      CHECK(pristine(h, a.path()));
    }
  }
}

TEST_CASE("run: bad flags are refused with a one-line error", "[integration][daemon]") {
  auto bin = owtest::oomwatch_bin();
  auto r = owtest::run({bin, "run", "--reservation", "loose"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("loose") != std::string::npos);
  r = owtest::run({bin, "run", "--interval", "10ms"});
  CHECK(r.exit_code == 2);
  r = owtest::run({bin, "run", "--manage", "/no/such/cgroup", "--db", "none", "--pin-dir", "none", "--state-dir",
                   "/tmp/owtest-nostate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/no/such/cgroup") != std::string::npos);
  r = owtest::run({bin, "run", "--config", "/no/such/file.toml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/no/such/file.toml") != std::string::npos);
  owtest::run({"rm", "-rf", "/tmp/owtest-nostate"});
}

TEST_CASE("run records history that survives SIGKILL and a restart", "[integration][daemon][history]") {
  auto h = owtest::hierarchy();
  auto c = owtest::make_cgroup(64 * kMiB, "owtest-hist");
  TempDir dir;
  std::string db = dir.path + "/history.db";
  // Samples of c in the database; 0 while there is none (or no database yet).
  auto samples = [&]() -> uint64_t {
    auto r = owtest::run({owtest::oomwatch_bin(), "stats", "--db", db, "--cgroup", c.path(), "--format", "json"});
    if (r.exit_code != 0) return 0;
    auto j = json::parse(r.out);
    return j.contains(c.path()) ? j[c.path()]["samples"].get<uint64_t>() : 0;
  };
  auto start = [&] {
    return owtest::start({owtest::oomwatch_bin(), "run", "--interval", "100ms", "--cpu-budget", "0", "--db", db, "--audit-log",
                          dir.path + "/audit.jsonl", "--state-dir", dir.path + "/state", "--pin-dir", "none"});
  };
  auto d = start();
  // Start-up (BPF load, first hints) takes seconds in the VM tier's TCG guest.
  REQUIRE(owtest::wait_for([&] { return samples() >= 5; }, 30000));
  ::kill(d->pid, SIGKILL);
  ::waitpid(d->pid, nullptr, 0);
  d->pid = -1;
  uint64_t n1 = samples();
  INFO("after SIGKILL: " << n1);
  CHECK(n1 >= 5);  // every committed snapshot is there

  d = start();
  CHECK(owtest::wait_for([&] { return samples() >= n1 + 5; }, 30000));
  d->stop();
  uint64_t n2 = samples();
  INFO("after restart: " << n2);
  CHECK(n2 >= n1 + 5);
}
