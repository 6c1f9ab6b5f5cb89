// Root: the agent's event loop thread runs at SCHED_FIFO 1 by default (so a
// rescue is not queued behind busy CPUs), and only it: the worker threads and
// the guardian process start at normal priority (SCHED_RESET_ON_FORK).
// --loop-priority normal leaves every thread as started.
#include <catch2/catch.hpp>
#include <dirent.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

namespace {

struct Sched {
  int policy = -1;       // SCHED_OTHER 0, SCHED_FIFO 1
  int rt_priority = -1;
  int nice = 99;
  std::string comm;
};

// Field 40 (rt_priority) and 41 (policy) of /proc/PID/task/TID/stat, and 19 (nice).
Sched sched_of(int pid, int tid) {
  Sched s;
  std::string task = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
  std::string comm = ow::read_text(task + "/comm").value_or("");  // trim views into it
  s.comm = std::string(ow::trim(comm));
  auto text = ow::read_text(task + "/stat");
  if (!text) return s;
  auto close = text->rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream in(text->substr(close + 2));
  std::string f;
  for (int field = 3; in >> f; ++field) {
    if (field == 19) s.nice = std::stoi(f);
    if (field == 40) s.rt_priority = std::stoi(f);
    if (field == 41) {
      s.policy = std::stoi(f);
      break;
    }
  }
  return s;
}

std::map<int, Sched> threads(int pid) {
  std::map<int, Sched> out;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d))
    if (e->d_name[0] != '.') out[std::atoi(e->d_name)] = sched_of(pid, std::atoi(e->d_name));
  ::closedir(d);
  return out;
}

std::unique_ptr<owtest::Background> agent(const owtest::TmpTree& dir, const std::string& manage,
                                          const std::vector<std::string>& extra) {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "run",         "--enforce",    "--hints",
                                "--manage",             manage,        "--interval",   "100ms",
                                "--db",                 "none",        "--audit-log",  dir.path + "/audit.jsonl",
                                "--state-dir",          dir.path + "/state", "--pin-dir", "none"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return owtest::start(argv);
}

}  // namespace

TEST_CASE("run: the event loop thread alone runs at SCHED_FIFO 1", "[integration][daemon][priority]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256ull << 20, "owtest-prio");
  auto a = owtest::child(h, parent.path(), "a", 32ull << 20);
  owtest::TmpTree dir("owtest-prio");
  auto bg = agent(dir, parent.path(), {});
  INFO(bg->err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(dir.path + "/state/ready") || !owtest::alive(bg->pid); },
                           30000));
  REQUIRE(owtest::alive(bg->pid));
  auto ts = threads(bg->pid);
  REQUIRE(ts.size() >= 2);  // the loop and at least the hint worker
  bool snapshotter = false;  // snapshots are taken off the loop thread
  for (const auto& [tid, s] : ts) {
    snapshotter = snapshotter || (tid != bg->pid && s.comm == "ow-snapshot");
    INFO("tid " << tid << " policy " << s.policy << " rt_priority " << s.rt_priority << " nice " << s.nice);
    if (tid == bg->pid) {
      CHECK(s.policy == 1);  // SCHED_FIFO
      CHECK(s.rt_priority == 1);
    } else {
      CHECK(s.policy == 0);  // SCHED_OTHER, nice 0: reset on fork
      CHECK(s.nice == 0);
    }
  }
  CHECK(snapshotter);
  int guard = owtest::guardian_of(bg->pid);
  REQUIRE(guard > 0);
  CHECK(sched_of(guard, guard).policy == 0);
}

TEST_CASE("run --loop-priority: normal leaves every thread as started; nice lowers only the loop",
          "[integration][daemon][priority]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256ull << 20, "owtest-prio");
  auto a = owtest::child(h, parent.path(), "a", 32ull << 20);
  owtest::TmpTree dir("owtest-prio");
  std::string which = GENERATE(std::string("normal"), std::string("nice"));
  auto bg = agent(dir, parent.path(), {"--loop-priority", which});
  INFO(which << ": " << bg->err());
  REQUIRE(owtest::wait_for([&] { return owtest::exists(dir.path + "/state/ready") || !owtest::alive(bg->pid); },
                           30000));
  REQUIRE(owtest::alive(bg->pid));
  for (const auto& [tid, s] : threads(bg->pid)) {
    INFO("tid " << tid << " policy " << s.policy << " nice " << s.nice);
    CHECK(s.policy == 0);
    CHECK(s.nice == (which == "nice" && tid == bg->pid ? -10 : 0));
  }
}

TEST_CASE("run --loop-priority and loop_priority: bad values are one-line usage errors", "[integration][priority]") {
  owtest::TmpTree dir("owtest-prio");
  auto r = owtest::run({owtest::oomwatch_bin(), "run", "--loop-priority", "rt", "--db", "none", "--state-dir",
                        dir.path + "/state"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--loop-priority: 'rt' is not one of fifo, nice, normal") != std::string::npos);
  std::ofstream(dir.path + "/c.toml") << "loop_priority = \"high\"\n";
  r = owtest::run({owtest::oomwatch_bin(), "run", "--config", dir.path + "/c.toml", "--db", "none", "--state-dir",
                   dir.path + "/state"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("loop_priority: 'high' is not one of fifo, nice, normal") != std::string::npos);
}
