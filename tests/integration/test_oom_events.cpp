// Root, real cgroups: a real allocation past a real limit, and the event
// stream of the real binary reports the victim with its pid and cgroup path,
// and the cgroup whose limit was hit (its own, or a parent's).
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "stats/time.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"

using namespace ow;

namespace {
// Ever-growing line in memory: charged anon memory without any helper binary.
const std::vector<std::string> kHog = {"sh", "-c", "exec tail /dev/zero"};

// Kills and reaps the processes it holds on every path; the cgroups (declared
// before it) then remove whatever those left running.
struct Reaper {
  std::vector<pid_t> pids;
  void add(pid_t p) { pids.push_back(p); }
  ~Reaper() {
    for (pid_t p : pids) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
  }
};

std::vector<nlohmann::json> json_lines(const std::string& s) {
  std::vector<nlohmann::json> out;
  for (auto l : split_lines(s)) out.push_back(nlohmann::json::parse(l));
  return out;
}
}  // namespace

TEST_CASE("events --json reports a real OOM kill with pid and cgroup", "[integration][events]") {
  auto cg = owtest::make_cgroup(16ull << 20);
  auto h = owtest::hierarchy();
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", cg.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));

  const int64_t before = wall_ns();
  auto pid = cg::spawn_in(h, cg.path(), kHog);
  REQUIRE(pid.ok());
  auto st = cg::wait_child(*pid);
  const int64_t after = wall_ns();
  CHECK(st.exit_code == 137);
  REQUIRE(owtest::wait_for([&] { return ev->out().find("oom_kill") != std::string::npos; }, 5000));
  ev->stop();
  const std::string out = ev->out();
  auto lines = json_lines(out);
  REQUIRE(lines.size() == 1);
  auto& j = lines[0];
  CHECK(j["type"] == "oom_kill");
  // Keys in the documented order: what, then when (UTC, milliseconds), then who.
  CHECK(out.rfind("{\"type\":\"oom_kill\",\"ts\":\"", 0) == 0);
  auto ts = stats::parse_rfc3339(j["ts"].get<std::string>());
  REQUIRE(ts.ok());
  CHECK(*ts >= before - 1'000'000);  // the kill happened while the hog ran (ms resolution)
  CHECK(*ts <= after);
  CHECK(j["pid"] == *pid);
  CHECK(j["comm"] == "tail");
  CHECK(j["cgroup"] == cg.path());
  CHECK(j["cgroup_id"] == *h.id_of(cg.path()));
  CHECK(j["anon_rss_bytes"].get<uint64_t>() > (8ull << 20));
  CHECK(j["anon_rss_bytes"].get<uint64_t>() <= (16ull << 20));
  // the cgroup's own limit was hit
  CHECK(j["global"] == false);
  CHECK(j["limit_cgroup"] == cg.path());
  CHECK(j["limit_cgroup_id"] == *h.id_of(cg.path()));
  CHECK(j["limit_bytes"] == 16ull << 20);
  CHECK(j["limit_from"] == "kernel");
}

TEST_CASE("events without --json: one line per kill, starting with its UTC time", "[integration][events]") {
  auto cg = owtest::make_cgroup(16ull << 20);
  auto h = owtest::hierarchy();
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--cgroup", cg.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));
  const int64_t before = wall_ns();
  auto pid = cg::spawn_in(h, cg.path(), kHog);
  REQUIRE(pid.ok());
  CHECK(cg::wait_child(*pid).exit_code == 137);
  const int64_t after = wall_ns();
  REQUIRE(owtest::wait_for([&] { return ev->out().find("oom_kill") != std::string::npos; }, 5000));
  ev->stop();
  const std::string out = ev->out();
  INFO(out);
  auto lines = split_lines(out);
  REQUIRE(lines.size() == 1);
  std::string line(lines[0]);
  // "2026-12-06T23:04:14.123Z oom_kill pid=N comm=tail cgroup=P ..."
  auto sp = line.find(' ');
  REQUIRE(sp == 24);
  std::string t = line.substr(0, sp);
  CHECK(t[10] == 'T');
  CHECK(t.back() == 'Z');
  auto ts = stats::parse_rfc3339(t);
  REQUIRE(ts.ok());
  CHECK(*ts >= before - 1'000'000);
  CHECK(*ts <= after);
  CHECK(line.substr(sp + 1).rfind("oom_kill pid=" + std::to_string(*pid) + " comm=tail cgroup=" + cg.path() + " ", 0) ==
        0);
}

TEST_CASE("events --json names a child's own limit, not its limited parent's", "[integration][events][limit]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512ull << 20, "owtest-limp");  // far from its limit
  auto child = cg::ScopedCgroup::create(h, parent.path(), "owtest-limc", 16ull << 20);
  REQUIRE(child.ok());
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", parent.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));

  auto pid = cg::spawn_in(h, child->path(), kHog);
  REQUIRE(pid.ok());
  CHECK(cg::wait_child(*pid).exit_code == 137);
  REQUIRE(owtest::wait_for([&] { return ev->out().find("oom_kill") != std::string::npos; }, 5000));
  ev->stop();
  auto lines = json_lines(ev->out());
  REQUIRE(lines.size() == 1);
  auto& j = lines[0];
  INFO(j.dump());
  CHECK(j["cgroup"] == child->path());
  CHECK(j["global"] == false);
  CHECK(j["limit_cgroup"] == child->path());
  CHECK(j["limit_cgroup_id"] == *h.id_of(child->path()));
  CHECK(j["limit_bytes"] == 16ull << 20);
  CHECK(j["limit_usage_bytes"].get<uint64_t>() <= (16ull << 20));
  CHECK(j["limit_usage_bytes"].get<uint64_t>() + (2ull << 20) >= (16ull << 20));
  CHECK(j["limit_from"] == "kernel");
}

TEST_CASE("events --json names the parent whose limit two children's memory ran into", "[integration][events][limit]") {
  auto h = owtest::hierarchy();
  const uint64_t kParent = 96ull << 20;
  auto parent = owtest::make_cgroup(kParent, "owtest-limp");
  // Each child is far from its own limit (200M); together they exceed the parent's.
  auto a = cg::ScopedCgroup::create(h, parent.path(), "owtest-lima", 200ull << 20);
  REQUIRE(a.ok());
  auto b = cg::ScopedCgroup::create(h, parent.path(), "owtest-limb", 200ull << 20);
  REQUIRE(b.ok());
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", parent.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));

  // ~64 MiB of touched anon memory held by a real process: dd fills its 64 MiB
  // buffer in one read, then blocks writing it into a pipe `sleep` never reads
  // (as in tests/bpf/test_snapshot.cpp). No stderr: sh would say "Killed".
  const std::vector<std::string> hold64 = {
      "sh", "-c", "exec 2>/dev/null; dd if=/dev/zero bs=67108864 count=1 | { head -c 1 >/dev/null; exec sleep 60; }"};
  auto sleeping = [&](const std::string& rel) {
    for (pid_t p : h.procs(rel).value_or({}))
      if (trim(read_text("/proc/" + std::to_string(p) + "/comm").value_or("")) == "sleep") return true;
    return false;
  };
  Reaper reap;
  auto pa = cg::spawn_in(h, a->path(), hold64);
  REQUIRE(pa.ok());
  reap.add(*pa);
  REQUIRE(owtest::wait_for([&] { return sleeping(a->path()); }, 15000));  // a holds its 64 MiB
  REQUIRE(h.usage(a->path()).value_or(0) > (60ull << 20));
  // b's 64 MiB on top of a's cannot fit in the parent's 96 MiB: b's charges hit
  // the parent's limit and the OOM killer picks a victim in the parent.
  auto pb = cg::spawn_in(h, b->path(), hold64);
  REQUIRE(pb.ok());
  reap.add(*pb);
  REQUIRE(owtest::wait_for([&] { return ev->out().find("oom_kill") != std::string::npos; }, 15000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // any further kill of the same incident
  ev->stop();
  INFO(ev->out());
  auto lines = json_lines(ev->out());
  REQUIRE(!lines.empty());
  // The first kill is the incident: the biggest task in the parent (a's dd,
  // done allocating) killed for b's charge, at the parent's limit.
  auto& j = lines[0];
  CHECK(j["type"] == "oom_kill");
  CHECK((j["cgroup"] == a->path() || j["cgroup"] == b->path()));
  CHECK(j["trigger_cgroup"] == b->path());  // a was done allocating
  CHECK(j["global"] == false);
  CHECK(j["limit_cgroup"] == parent.path());
  CHECK(j["limit_cgroup_id"] == *h.id_of(parent.path()));
  CHECK(j["limit_bytes"] == kParent);
  CHECK(j["limit_usage_bytes"].get<uint64_t>() <= kParent);
  CHECK(j["limit_usage_bytes"].get<uint64_t>() + (2ull << 20) >= kParent);
  CHECK(j["limit_counter"] == "memory");
  CHECK(j["limit_from"] == "kernel");
  // A second kill can follow when b's charge failed again while the first
  // victim's memory was being reaped: by its mark_victim the parent may be
  // below its limit again (then no limit is seen: "global"). Never a child.
  for (size_t i = 1; i < lines.size(); ++i) {
    CHECK((lines[i]["limit_cgroup"] == parent.path() || lines[i]["global"] == true));
    CHECK(lines[i]["limit_cgroup"] != a->path());
    CHECK(lines[i]["limit_cgroup"] != b->path());
  }
}

TEST_CASE("events --cgroup filters out kills elsewhere", "[integration][events]") {
  auto watched = owtest::make_cgroup(16ull << 20, "owtest-watched");
  auto other = owtest::make_cgroup(16ull << 20, "owtest-other");
  auto h = owtest::hierarchy();
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", watched.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));
  auto pid = cg::spawn_in(h, other.path(), kHog);
  REQUIRE(pid.ok());
  CHECK(cg::wait_child(*pid).exit_code == 137);
  // The sentinel: a kill in the watched cgroup after the other one. Events
  // arrive in order, so once it is printed the other kill was seen (and,
  // filtered, not printed): the check ends on an event, not after a pause.
  auto sentinel = cg::spawn_in(h, watched.path(), kHog);
  REQUIRE(sentinel.ok());
  CHECK(cg::wait_child(*sentinel).exit_code == 137);
  REQUIRE(owtest::wait_for([&] { return ev->out().find("oom_kill") != std::string::npos; }, 15000));
  ev->stop();
  auto lines = json_lines(ev->out());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["pid"] == *sentinel);
  CHECK(lines[0]["cgroup"] == watched.path());
}

TEST_CASE("events rejects an unknown cgroup", "[integration][events]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "events", "--cgroup", "/no/such/cgroup"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown cgroup /no/such/cgroup") != std::string::npos);
}
