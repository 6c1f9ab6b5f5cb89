#include "exporter/listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include "exporter/port_holder.hpp"

namespace ow::exporter {

Result<UniqueFd> bind_listener(const ListenAddr& addr) {
  const std::string where = addr.str();
  UniqueFd fd(::socket(addr.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return sys_error("metrics listener: socket for", where);
  int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.v6) (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr.sa), addr.sa_len) != 0) {
    if (errno == EADDRINUSE)
      return app_error("metrics listener: " + where + " is " + describe_port_holder(find_port_holder(addr.port)) +
                       ": stop it, or give --listen another port");
    return sys_error("metrics listener: bind", where);
  }
  if (::listen(fd.get(), 64) != 0) return sys_error("metrics listener: listen on", where);
  return fd;
}

}  // namespace ow::exporter
