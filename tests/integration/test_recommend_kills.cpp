// Kills counted where they happened, end to end: a cgroup with a 32 MiB limit
// whose workloads are OOM-killed three times while the real agent records at
// 1 s. Its samples after each kill show a few MiB (the kill freed the rest);
// recommend, --replay and report must still see three kills at 32 MiB, from
// the kernel's events the agent stored. The agent's log says no warning
// while the database keeps up.
#include <catch2/catch.hpp>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "store/history.hpp"
#include "util/fs.hpp"
#include "workload.hpp"

using nlohmann::json;

namespace {
constexpr uint64_t kMiB = 1 << 20;

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("kills at a 32 MiB limit recorded at 1 s: recommend, --replay and report count 3 at 32 MiB",
          "[integration][recommend]") {
  owtest::TmpTree dir("owtest-reckills");
  std::string db = dir.path + "/history.db";
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(32 * kMiB, "owtest-reckills");
  int port = owtest::free_port();
  auto agent = owtest::start({owtest::oomwatch_bin(), "run", "--interval", "1s", "--db", db, "--audit-log",
                              dir.path + "/audit.jsonl", "--state-dir", dir.path + "/state", "--pin-dir", "none",
                              "--listen", "127.0.0.1:" + std::to_string(port)});
  INFO(agent->err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(dir.path + "/state/ready") || !owtest::alive(agent->pid); },
                           30000));
  REQUIRE(owtest::alive(agent->pid));
  // A container that allocates past its limit, three times.
  for (int i = 0; i < 3; ++i) {
    owtest::Workload w(h.abs(cg.path()) + "/cgroup.procs", {{64 * kMiB, 0, 0}});
    REQUIRE(w.wait(60'000));
    REQUIRE(w.killed());
  }
  // The agent saw the three kills...
  REQUIRE(owtest::wait_for(
      [&] {
        size_t n = 0;
        std::string out = agent->out();
        for (auto l : ow::split_lines(out))
          if (!l.empty())
            if (auto j = json::parse(l); j["type"] == "oom_kill" && j["cgroup"] == cg.path()) ++n;
        return n >= 3;
      },
      10000));
  // ...and took a few more 1 s snapshots after them (the samples that see the freed memory).
  REQUIRE(owtest::snapshots_pass(port, 3));
  ::kill(agent->pid, SIGTERM);  // its writer flushes what is queued before it exits
  REQUIRE(owtest::wait_for([&] { return !owtest::alive(agent->pid); }, 15000));
  // Nothing was behind: the history writer has nothing to warn about (a
  // warning on every snapshot once said "60 snapshots behind; 0 dropped").
  std::string log = agent->err();
  INFO(log);
  for (auto l : ow::split_lines(log))
    CHECK((l.find(" warning ") == std::string::npos || l.find("history") == std::string::npos));
  CHECK(log.find("behind") == std::string::npos);

  auto r = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--cgroup", cg.path(), "--window", "10m",
                        "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  REQUIRE(doc["containers"].size() == 1);
  const auto& c = doc["containers"][0];
  INFO(c.dump());
  const auto& obs = c["observed"];
  CHECK(obs["oom_kills"] == 3);
  CHECK(obs["oom_kills_from"] == "kernel event");
  // The kernel's usage at the kill: the limit, give or take a charge batch.
  CHECK(obs["oom_kill_used_bytes"].get<uint64_t>() >= 31 * kMiB);
  CHECK(obs["ws_max_bytes"].get<uint64_t>() < 32 * kMiB);  // what the samples saw
  CHECK(c["recommended"]["limit_term"].get<std::string>().rfind("OOM floor", 0) == 0);
  CHECK(c["recommended"]["limit_bytes"].get<uint64_t>() >= 132 * kMiB);  // max(used + 100Mi, used × 1.2)
  std::fprintf(stderr, "kills: recommend used %s at the kill, limit %s (%s)\n",
               obs["oom_kill_used"].get<std::string>().c_str(), c["recommended"]["limit"].get<std::string>().c_str(),
               c["recommended"]["limit_term"].get<std::string>().c_str());

  auto t = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--cgroup", cg.path(), "--window", "10m"});
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("OOM kills at its limit in the window: 3") != std::string::npos);

  auto rp = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", db, "--cgroup", cg.path(), "--window", "10m",
                         "--replay", "--format", "json"});
  INFO(rp.err);
  REQUIRE(rp.exit_code == 0);
  auto g = json::parse(rp.out)["replay"][0];
  INFO(g.dump());
  CHECK(g["recorded_oom_kills"] == 3);
  CHECK(g["current"]["oom_episodes"] == 3);  // the 32 MiB limit in force killed three times
  CHECK(g["seed"]["oom_episodes"] == 0);     // the recommended limit is above the demand that was killed

  std::string html = dir.path + "/report.html";
  auto rep = owtest::run({owtest::oomwatch_bin(), "report", "--html", html, "--db", db, "--cgroup", cg.path(),
                          "--audit-log", "none"});
  INFO(rep.err);
  REQUIRE(rep.exit_code == 0);
  auto page = ow::read_text(html);
  REQUIRE(page);
  CHECK(count_of(*page, "OOM kill at ") == 3);  // each kill with the kernel's usage
  CHECK(page->find("the history covers") != std::string::npos);  // a minute of history, not a 24 h window
  CHECK(page->find("none (no working set recorded)") == std::string::npos);  // recommend's figures are there
}
