// The address an HTTP listener binds: "ADDR:PORT" with a numeric IPv4
// address ("127.0.0.1:9721", "0.0.0.0:9721") or a bracketed IPv6 one
// ("[::1]:9721"). Numeric only: no name lookup (the binary is static, and a
// node agent should not depend on a resolver to start). Pure.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ow {

struct ListenAddr {
  std::string host;   // as given, without brackets: "127.0.0.1", "::1"
  uint16_t port = 0;  // 1..65535
  bool v6 = false;
  sockaddr_storage sa{};
  socklen_t sa_len = 0;
  // "127.0.0.1:9721", "[::1]:9721"
  std::string str() const;
  // 127.0.0.0/8 or ::1: reachable from this host only.
  bool loopback() const;
};

// Errors are one line naming the value and the expected form, e.g.
// "'localhost:80': want a numeric ADDR:PORT such as 127.0.0.1:9721 or [::1]:9721".
Result<ListenAddr> parse_listen(std::string_view s);

}  // namespace ow
