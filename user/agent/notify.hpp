// Readiness: the agent is ready once its BPF programs are attached and the
// first snapshot is taken. It then (1) sends READY=1 to systemd when
// NOTIFY_SOCKET is set (Type=notify units), (2) writes <state_dir>/ready
// holding its pid, and (3) logs "ready". Tests and scripts wait for the file
// or the line instead of sleeping.
#pragma once
#include <string>

namespace ow::agent {

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a path or
// an abstract socket "@..."). No-op without the variable.
void sd_notify_msg(const std::string& msg);

}  // namespace ow::agent
