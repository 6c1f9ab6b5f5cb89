// The /metrics listening socket, bound on its own so the agent can take the
// port before it loads any BPF program (agent/daemon_start.cpp) and hand the
// socket to the server's thread later (exporter/server.hpp). A port in use
// is one line naming the process that holds it and the fix.
#pragma once
#include "util/fd.hpp"
#include "util/listen.hpp"
#include "util/result.hpp"

namespace ow::exporter {

// A non-blocking, close-on-exec TCP socket bound to addr and listening.
// EADDRINUSE: "metrics listener: 127.0.0.1:9721 is in use by pid 4242
// (python3): stop it, or give --listen another port".
Result<UniqueFd> bind_listener(const ListenAddr& addr);

}  // namespace ow::exporter
