// Test helpers: real cgroups under the test's own cgroup, removed on every
// path (RAII), and running the real oomwatch binary.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "cgroup/scoped.hpp"
#include "util/units.hpp"

namespace owtest {

// The memory hierarchy of this machine (v1 here, v2 in the VM tier); fails the test if none.
ow::cg::Hierarchy hierarchy();

// A cgroup under the test process's own memory cgroup with the given limit.
ow::cg::ScopedCgroup make_cgroup(uint64_t limit_bytes = ow::kUnlimited, const std::string& prefix = "owtest");

// Path of the oomwatch binary under test: $OOMWATCH_BIN, else build/oomwatch
// next to the test binary's directory (build/tests/..).
std::string oomwatch_bin();

// A file of the repository holding the test binary (build/tests/X): the
// first directory above it that has rel, else rel as given.
std::string repo_file(const std::string& rel);

// Path of owalloc, the uninstrumented allocator a Workload execs:
// $OWTEST_ALLOC, else tests/owalloc beside the test binary.
std::string alloc_bin();

struct CmdResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out, err;
  uint64_t max_rss_bytes = 0;  // the child's peak resident set (wait4's ru_maxrss)
  double wall_s = 0;           // from start to exit
};
// Runs argv (argv[0] searched in PATH), capturing stdout/stderr; kills it after timeout_s.
CmdResult run(const std::vector<std::string>& argv, int timeout_s = 60);
// Starts argv in the background with stdout to a file; returns pid.
struct Background {
  int pid = -1;
  std::string out_path, err_path;
  ~Background();  // SIGINT, then SIGKILL after 3 s; always reaped
  void stop();
  std::string out() const;
  std::string err() const;
};
std::unique_ptr<Background> start(const std::vector<std::string>& argv);

// A test's helper thread stopped and joined on every way out of the test
// (a failed REQUIRE included): sets stop, then joins.
struct StopAndJoin {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~StopAndJoin() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

// Polls pred every 20 ms up to timeout_ms.
bool wait_for(const std::function<bool()>& pred, int timeout_ms);

// A real process holding ~24 MiB of anonymous memory in cgroup `rel`: dd
// fills its 24 MiB buffer in one read, then blocks writing it into a pipe
// that `sleep` never reads. (Not a shell variable: busybox ash, in the VM
// tier, reads $(...) 128 bytes at a time, >10 s for 24 MiB under TCG, and it
// execs the last command of `sh -c`, which frees the variable.) True once
// the growth is over: `sleep` runs when head got dd's first bytes, which dd
// writes only after its read filled the whole buffer. The process lives
// until the cgroup is removed (or 30 s).
bool hold_24mib(const ow::cg::Hierarchy& h, const std::string& rel);

bool is_root();

// A direct child of parent whose comm is `comm` (-1: none), from /proc.
int child_named(int parent, const std::string& comm);
// The agent's guardian (its child "oomwatch-guard"), waited for: the child
// names itself just after the fork, and on a loaded machine the agent can be
// ready before the child has run that far. -1 if it never appears.
int guardian_of(int agent_pid, int timeout_ms = 10000);
bool exists(const std::string& path);
// Whether pid is a live process (not a zombie).
bool alive(int pid);

// The body of GET http://127.0.0.1:port/path ("" unless the answer is a
// 200), without curl: the VM tier's guests have none.
std::string http_get(int port, const std::string& path, int timeout_ms = 5000);
// Sends `request` as is to 127.0.0.1:port and reads until the server closes
// the connection or timeout_ms passes: what came back, and whether it closed.
struct Exchange {
  std::string data;
  bool closed = false;
};
Exchange http_exchange(int port, const std::string& request, int timeout_ms = 5000);

// A port that was free on 127.0.0.1 a moment ago (the kernel's pick).
// A listening TCP socket on 127.0.0.1 at a port the kernel picks (port).
int listen_loopback(int& port);
int free_port();

}  // namespace owtest
