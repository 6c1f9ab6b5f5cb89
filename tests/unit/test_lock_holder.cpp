// Who holds the agent's lock (failsafe/lock.hpp): the /proc/locks parse on
// the kernel's own format, and a real flock(2) held by a real child process
// named in acquire()'s error, with the fix.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "failsafe/lock.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

using namespace ow;

TEST_CASE("lock holder: the flock holder of one file from /proc/locks lines", "[lock]") {
  const std::string locks =
      "1: POSIX  ADVISORY  READ 7463 fe:00:10994626 128 128\n"
      "2: FLOCK  ADVISORY  WRITE 5120 fe:00:10994578 0 EOF\n"
      "2: -> FLOCK  ADVISORY  WRITE 6000 fe:00:10994578 0 EOF\n"
      "3: FLOCK  ADVISORY  WRITE 42 00:1f:10994578 0 EOF\n"
      "4: OFDLCK ADVISORY  WRITE -1 fe:00:77 0 EOF\n";
  CHECK(failsafe::flock_holder(locks, 0xfe, 0, 10994578) == 5120);
  CHECK(failsafe::flock_holder(locks, 0, 0x1f, 10994578) == 42);  // same inode, another device
  CHECK(failsafe::flock_holder(locks, 0xfe, 0, 10994626) == 0);   // a POSIX lock is not the agent's flock
  CHECK(failsafe::flock_holder(locks, 0xfe, 0, 77) == 0);
  CHECK(failsafe::flock_holder("", 0xfe, 0, 1) == 0);
}

TEST_CASE("lock holder: a child holding the lock is named with the fix, though it wrote no pid", "[lock]") {
  char dir[] = "/tmp/owtest-lock-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/lock";
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
    char c = fd >= 0 && ::flock(fd, LOCK_EX) == 0 ? 1 : 0;
    (void)::write(p[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  bool locked = ::read(p[0], &c, 1) == 1 && c == 1;
  ::close(p[0]);
  ::close(p[1]);
  auto l = failsafe::AgentLock::acquire(path, std::chrono::milliseconds(0));
  std::string comm = std::string(trim(*read_text("/proc/" + std::to_string(child) + "/comm")));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto after = failsafe::AgentLock::acquire(path, std::chrono::milliseconds(0));  // the holder is gone: ours now
  owtest::run({"rm", "-rf", dir});
  REQUIRE(locked);
  REQUIRE_FALSE(l);
  CHECK(l.error().message() == "pid " + std::to_string(child) + " (" + comm + ") holds " + path +
                                   ": an agent is running (or its guardian is still putting a dead agent's settings "
                                   "back); stop that agent (kill " + std::to_string(child) +
                                   "), or give this one another --state-dir");
  CHECK(after);
}
