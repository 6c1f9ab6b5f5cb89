// Root, the real binary: what would stop `oomwatch run` and has a known fix
// refuses the start before any BPF program is loaded, in one line naming
// the fix (and no generic HINT), exit 1, leaving nothing of the agent's
// behind: a /metrics port held by another process (named by pid and comm),
// the state dir's lock held by another process, a pin dir off bpffs. And
// the pin dirs the agent makes on bpffs are removed again, every level of
// them.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "agent_helpers.hpp"
#include "bpf/bpffs.hpp"
#include "helpers.hpp"
#include "skip.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"

namespace {

const std::string kPinnedMap = "reclaim_stalls";  // the map the agent pins (bpf/loader.cpp)

// A child of the test that holds fd (and nothing else of interest) until the
// end of the test, under a comm of its own.
struct FdHolder {
  pid_t pid = -1;
  FdHolder(int fd, const char* comm) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::prctl(PR_SET_NAME, comm);
      char c = 1;
      (void)::write(p[1], &c, 1);
      for (;;) ::pause();
    }
    ::close(fd);  // the child's copy is the only one now
    char c = 0;
    bool named = ::read(p[0], &c, 1) == 1;
    ::close(p[0]);
    ::close(p[1]);
    REQUIRE(named);
  }
  ~FdHolder() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

std::vector<std::string> agent_argv(const std::string& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> a{owtest::oomwatch_bin(), "run", "--db", "none", "--audit-log", dir + "/audit.jsonl",
                             "--state-dir", dir + "/state"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Refused before the loader ran: the loader logs each program it attached
// ("hooked ... via ..."), and the audit log is opened only after it.
void refused_before_bpf(const owtest::CmdResult& r, const std::string& dir) {
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("hooked ") == std::string::npos);
  CHECK(r.err.find("HINT:") == std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // the one line
  CHECK_FALSE(owtest::exists(dir + "/audit.jsonl"));
}

}  // namespace

TEST_CASE("run: a /metrics port held by another process is refused before BPF loads, naming its pid and comm",
          "[integration][refusals]") {
  owtest::TmpTree d{"owtest-refuse-port"};
  int port = 0;
  FdHolder holder(owtest::listen_loopback(port), "owtest-port");
  const std::string pins = "/sys/fs/bpf/owtest-refuse-" + std::to_string(::getpid());
  auto r = owtest::run(agent_argv(d.path, {"--pin-dir", pins, "--listen", "127.0.0.1:" + std::to_string(port)}), 60);
  owtest::run({"rm", "-rf", pins});
  INFO(r.err);
  refused_before_bpf(r, d.path);
  CHECK(r.err == "oomwatch: metrics listener: 127.0.0.1:" + std::to_string(port) + " is in use by pid " +
                     std::to_string(holder.pid) + " (owtest-port): stop it, or give --listen another port\n");
  CHECK_FALSE(owtest::exists(pins));  // nothing pinned, no dir made
  // The holder still has its port: the agent took nothing from it.
  CHECK(owtest::alive(holder.pid));
}

TEST_CASE("run: the state dir's lock held by another process is refused, naming its pid and the fix",
          "[integration][refusals]") {
  // util-linux's flock(1); busybox's (the VM guests' userland) is another program.
  if (auto v = owtest::run({"flock", "--version"}); (v.out + v.err).find("util-linux") == std::string::npos)
    OWTEST_SKIP("flock(1) here is not util-linux's");
  owtest::TmpTree d{"owtest-refuse-lock"};
  const std::string state = d.path + "/state", lock = state + "/lock";
  REQUIRE(ow::mkdir_p(state));
  // util-linux flock(1) takes the lock and writes nothing into the file:
  // the holder can only be found from the kernel's lock table.
  auto holder = owtest::start({"flock", lock, "sleep", "600"});
  auto held = [&] {
    ow::UniqueFd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return false;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return false;  // not yet (closing the fd releases it)
    return errno == EWOULDBLOCK;
  };
  REQUIRE(owtest::wait_for(held, 10000));
  auto r = owtest::run(agent_argv(d.path, {"--pin-dir", "none"}), 60);
  const int pid = holder->pid;
  ::kill(-pid, SIGKILL);  // flock and its sleep
  ::waitpid(pid, nullptr, 0);
  holder->pid = -1;
  INFO(r.err);
  refused_before_bpf(r, d.path);
  CHECK(r.err == "oomwatch: pid " + std::to_string(pid) + " (flock) holds " + lock +
                     ": an agent is running (or its guardian is still putting a dead agent's settings back); stop "
                     "that agent (kill " + std::to_string(pid) + "), or give this one another --state-dir\n");
}

TEST_CASE("run: a pin dir on a plain filesystem is refused before BPF loads, with the mount that fixes it; "
          "nothing is created and an existing dir is kept",
          "[integration][refusals]") {
  owtest::TmpTree d{"owtest-refuse-pins"};
  REQUIRE_FALSE(ow::bpf::on_bpffs(d.path));
  SECTION("a dir that does not exist") {
    const std::string pins = d.path + "/pins/oomwatch";
    auto r = owtest::run(agent_argv(d.path, {"--pin-dir", pins}), 30);
    INFO(r.err);
    refused_before_bpf(r, d.path);
    CHECK(r.err == "oomwatch: --pin-dir " + pins + " is not on a bpf filesystem (" + d.path +
                       " is not one): mount bpffs there (mkdir -p " + pins + " && mount -t bpf bpf " + pins +
                       ") or pick a dir under /sys/fs/bpf (or --pin-dir none)\n");
    CHECK_FALSE(owtest::exists(d.path + "/pins"));
  }
  SECTION("a dir that exists") {
    const std::string pins = d.path + "/mine";
    REQUIRE(ow::mkdir_p(pins));
    auto r = owtest::run(agent_argv(d.path, {"--pin-dir", pins}), 30);
    INFO(r.err);
    refused_before_bpf(r, d.path);
    CHECK(r.err == "oomwatch: --pin-dir " + pins + " is not on a bpf filesystem (" + pins +
                       " is not one): mount bpffs there (mount -t bpf bpf " + pins +
                       ") or pick a dir under /sys/fs/bpf (or --pin-dir none)\n");
    CHECK(owtest::exists(pins));  // not the agent's to remove
    CHECK_FALSE(owtest::exists(pins + "/" + kPinnedMap));
  }
}

TEST_CASE("run: the pin dirs the agent makes on bpffs, every level, are gone after it stops",
          "[integration][refusals]") {
  owtest::TmpTree d{"owtest-pin-levels"};
  const std::string top = "/sys/fs/bpf/owtest-levels-" + std::to_string(::getpid());
  const std::string pins = top + "/a/oomwatch";
  REQUIRE_FALSE(owtest::exists(top));
  auto ag = owtest::start(agent_argv(d.path, {"--pin-dir", pins}));
  bool ready = owtest::wait_for(
      [&] { return owtest::exists(d.path + "/state/ready") || !owtest::alive(ag->pid); }, 30000);
  const bool pinned = owtest::exists(pins + "/" + kPinnedMap);
  ag->stop();
  const bool left = owtest::exists(top);
  owtest::run({"rm", "-rf", top});
  INFO(ag->err());
  REQUIRE(ready);
  CHECK(pinned);
  CHECK_FALSE(left);
}
