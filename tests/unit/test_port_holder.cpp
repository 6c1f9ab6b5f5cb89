// Naming the process that holds a TCP port (exporter/port_holder.hpp): the
// /proc/net/tcp parse on the kernel's own format, and the lookup on a real
// listening socket of a real child process.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporter/port_holder.hpp"
#include "helpers.hpp"

using namespace ow;

TEST_CASE("port holder: listening sockets on a port from /proc/net/tcp and tcp6 lines", "[port_holder]") {
  const std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:25F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4983245 1 0 100 0 0 10 0\n"
      "   1: 00000000:25F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 345 1 0 100 0 0 10 0\n"
      // the same port, established (a client's connection): not a listener
      "   2: 0100007F:25F9 0100007F:D2A0 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0\n"
      // another port
      "   3: 0100007F:25FA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 888 1 0 100 0 0 10 0\n"
      "   4: garbage\n";
  CHECK(exporter::listening_inodes(tcp, 0x25F9) == std::vector<uint64_t>{4983245, 345});
  CHECK(exporter::listening_inodes(tcp, 0x25FA) == std::vector<uint64_t>{888});
  CHECK(exporter::listening_inodes(tcp, 1).empty());
  const std::string tcp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when "
      "retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:25F9 00000000000000000000000000000000:0000 0A 00000000:00000000 "
      "00:00000000 00000000     0        0 99 1 0 100 0 0 10 0\n";
  CHECK(exporter::listening_inodes(tcp6, 0x25F9) == std::vector<uint64_t>{99});
}

TEST_CASE("port holder: a child listening on a port is named by pid and comm", "[port_holder]") {
  int port = 0;
  int fd = owtest::listen_loopback(port);
  REQUIRE(fd >= 0);
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::prctl(PR_SET_NAME, "owtest-holder");
    char c = 1;
    (void)::write(p[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  ::close(fd);  // the child holds the only fd on the socket now
  char c = 0;
  REQUIRE(::read(p[0], &c, 1) == 1);  // named
  ::close(p[0]);
  ::close(p[1]);
  auto h = exporter::find_port_holder(static_cast<uint16_t>(port));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  REQUIRE(h);
  CHECK(h->pid == child);
  CHECK(h->comm == "owtest-holder");
  CHECK(exporter::describe_port_holder(h) == "in use by pid " + std::to_string(child) + " (owtest-holder)");
  // Closed: nobody holds it.
  auto none = exporter::find_port_holder(static_cast<uint16_t>(port));
  CHECK_FALSE(none);
  CHECK(exporter::describe_port_holder(none) ==
        "in use (no process holding it was found: it may be in another network namespace)");
}
