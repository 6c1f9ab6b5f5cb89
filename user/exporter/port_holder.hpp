// Which process holds a TCP port: the listening sockets on that port from
// /proc/net/tcp and tcp6 (their socket inodes), then the process with an fd
// on one of those inodes (/proc/*/fd links "socket:[INODE]"). Used to name
// the holder when the /metrics listener's bind finds the port in use. The
// proc root is injected so the lookup is tested on a fake tree.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ow::exporter {

struct PortHolder {
  pid_t pid = 0;
  std::string comm;
};

// The inodes of the sockets listening (state 0A) on `port` in one
// /proc/net/tcp or /proc/net/tcp6 table, any local address; lines that do
// not parse are skipped. Pure.
std::vector<uint64_t> listening_inodes(std::string_view table, uint16_t port);

// The first process (lowest pid) holding a socket that listens on `port` in
// this network namespace; nullopt when none is found (another namespace, a
// process whose fds we may not read, or the socket closed meanwhile).
std::optional<PortHolder> find_port_holder(uint16_t port, const std::string& proc_root = "/proc");

// "in use by pid 4242 (python3)", or "in use (...)" saying why no holder is named.
std::string describe_port_holder(const std::optional<PortHolder>& h);

}  // namespace ow::exporter
