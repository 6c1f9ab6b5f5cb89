// Root, the real binary: what a Type=notify unit sees. The agent sends
// READY=1 to $NOTIFY_SOCKET only once it is attached and has taken its
// first snapshot (its ready file exists by then), and STOPPING=1 when it
// begins to put the node back.
#include <catch2/catch.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "util/fd.hpp"

namespace {
// One datagram within timeout_ms, "" when none came.
std::string recv_msg(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return "";
  char buf[512];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}
}  // namespace

TEST_CASE("run under Type=notify: READY=1 after the first snapshot, STOPPING=1 on SIGTERM",
          "[integration][systemd]") {
  owtest::TmpTree dir{"owtest-notify"};
  std::string sock = dir.path + "/notify.sock";
  ow::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, sock.c_str(), sock.size());
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  std::string state = dir.path + "/state";
  auto bg = owtest::start({"env", "NOTIFY_SOCKET=" + sock, owtest::oomwatch_bin(), "run", "--db", "none",
                           "--audit-log", dir.path + "/audit.jsonl", "--state-dir", state, "--pin-dir", "none"});
  std::string ready = recv_msg(fd.get(), 30000);
  INFO(bg->err());
  CHECK(ready == "READY=1");
  CHECK(owtest::exists(state + "/ready"));  // written before READY=1, after the first snapshot
  CHECK_THAT(bg->err(), Catch::Contains("sampling every"));
  ::kill(bg->pid, SIGTERM);
  CHECK(recv_msg(fd.get(), 10000) == "STOPPING=1");
  CHECK(owtest::wait_for([&] { return !owtest::alive(bg->pid); }, 10000));
}
