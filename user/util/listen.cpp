#include "util/listen.hpp"
#include "util/text.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ow {

std::string ListenAddr::str() const { return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port); }

Result<ListenAddr> parse_listen(std::string_view s) {
  const std::string shown = "'" + excerpt(s) + "'";
  auto bad = [&](const std::string& why) {
    return app_error(shown + ": " + why + " (want a numeric ADDR:PORT such as 127.0.0.1:9721 or [::1]:9721)");
  };
  ListenAddr a;
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return bad("no closing ']'");
    host = s.substr(1, close - 1);
    if (close + 1 >= s.size() || s[close + 1] != ':') return bad("no ':PORT' after the address");
    port = s.substr(close + 2);
    a.v6 = true;
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return bad("no ':PORT'");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address needs brackets");
  }
  if (host.empty()) return bad("no address before the port");
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) return bad("port is not a number");
  if (p == 0 || p > 65535) return bad("port must be 1-65535");
  a.host = std::string(host);
  a.port = static_cast<uint16_t>(p);
  std::memset(&a.sa, 0, sizeof a.sa);
  if (a.v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.sa);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a.port);
    if (::inet_pton(AF_INET6, a.host.c_str(), &sin6->sin6_addr) != 1) return bad("not a numeric IPv6 address");
    a.sa_len = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.sa);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port);
    if (::inet_pton(AF_INET, a.host.c_str(), &sin->sin_addr) != 1) return bad("not a numeric IPv4 address");
    a.sa_len = sizeof(sockaddr_in);
  }
  return a;
}

bool ListenAddr::loopback() const {
  if (v6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&sa);
    return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&sa);
  return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
}

}  // namespace ow
