// Root, the real binary: what the systemd unit (deploy/systemd) relies on.
// The agent sends READY=1 to $NOTIFY_SOCKET only once it is attached and has
// taken its first snapshot (its ready file exists by then), and STOPPING=1
// when it begins to put the node back; and it works inside the unit's
// sandbox (read-only root, no new privileges, the unit's capabilities).
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
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
// A port that was free on 127.0.0.1 a moment ago (the kernel's pick).
int free_port() {
  ow::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  return ntohs(sa.sin_port);
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

// The unit's sandbox, as far as it can be built without systemd: the root
// filesystem read-only with the writable paths bound in (ProtectSystem=strict
// + ReadWritePaths), no new privileges (NoNewPrivileges=yes) and the unit's
// CapabilityBoundingSet. The agent must attach, serve /metrics, arm a managed
// child (a cgroupfs write) and put it back on SIGTERM.
TEST_CASE("run inside the unit's sandbox: read-only root, no new privileges, its capability set",
          "[integration][systemd][hosttools]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256 << 20, "owtest-sandbox");
  auto a = owtest::child(h, parent.path(), "a", 64 << 20);
  owtest::TmpTree dir{"owtest-sandbox"};
  std::string state = dir.path + "/state";
  int port = free_port();
  std::string agent = owtest::oomwatch_bin() + " run --enforce --manage '" + parent.path() + "' --db none" +
                      " --audit-log " + dir.path + "/audit.jsonl --state-dir " + state +
                      " --pin-dir none --listen 127.0.0.1:" + std::to_string(port);
  // The binary must stay reachable: the build tree is on the read-only root
  // (as /usr/local/bin is under ProtectSystem=strict); /tmp stays writable.
  std::string sandbox =
      "mount --make-rprivate / && mount --bind /tmp /tmp && mount -o remount,bind,ro / && "
      "! touch /oomwatch-sandbox-probe 2>/dev/null && "
      "exec setpriv --no-new-privs --bounding-set "
      "-all,+bpf,+perfmon,+sys_admin,+sys_resource,+ipc_lock,+dac_override,+fowner,+sys_nice " + agent;
  auto bg = owtest::start({"unshare", "-m", "sh", "-c", sandbox});
  bool ready = owtest::wait_for([&] { return owtest::exists(state + "/ready") || !owtest::alive(bg->pid); }, 30000) &&
               owtest::alive(bg->pid);
  INFO(bg->err());
  REQUIRE(ready);
  CHECK(owtest::wait_for([&] { return owtest::armed(h, a.path()); }, 5000));
  CHECK(bg->err().find("event loop priority") == std::string::npos);  // SCHED_FIFO granted in the sandbox
  auto m = owtest::run({"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/metrics"});
  CHECK(m.exit_code == 0);
  CHECK_THAT(m.out, Catch::Contains("oomwatch_cgroup_memory_limit_bytes{cgroup=\"" + a.path() + "\"} 67108864"));
  auto st = owtest::run({"grep", "-E", "^(CapBnd|NoNewPrivs)", "/proc/" + std::to_string(bg->pid) + "/status"});
  CHECK_THAT(st.out, Catch::Contains("NoNewPrivs:\t1"));
  CHECK(st.out.find("CapBnd:\t000001ff") == std::string::npos);  // the full set is gone
  ::kill(bg->pid, SIGTERM);
  CHECK(owtest::wait_for([&] { return !owtest::alive(bg->pid); }, 10000));
  CHECK(!owtest::armed(h, a.path()));  // put back from inside the sandbox
}
