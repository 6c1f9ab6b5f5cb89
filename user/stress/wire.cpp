#include "stress/wire.hpp"

#include <algorithm>
#include <cstring>

#include <unistd.h>

namespace ow::stress {

WorkerMsg make_msg(MsgKind k, uint64_t held_bytes) {
  WorkerMsg m{};
  m.kind = k;
  m.held_bytes = held_bytes;
  return m;
}

WorkerMsg make_error_msg(const Error& e, uint64_t held_bytes) {
  WorkerMsg m = make_msg(MsgKind::Error, held_bytes);
  m.err = e.err;
  std::string w = e.what;
  if (!e.path.empty()) w += " " + e.path;
  size_t n = std::min(w.size(), sizeof m.what - 1);
  std::memcpy(m.what, w.data(), n);
  m.what[n] = '\0';
  return m;
}

Error msg_error(const WorkerMsg& m) {
  std::string what(m.what, strnlen(m.what, sizeof m.what));
  return Error{m.err, "worker: " + what, {}};
}

bool send_msg(int fd, const WorkerMsg& m) {
  return ::write(fd, &m, sizeof m) == static_cast<ssize_t>(sizeof m);
}

std::vector<WorkerMsg> take_msgs(std::string& buf) {
  std::vector<WorkerMsg> out;
  size_t whole = buf.size() / sizeof(WorkerMsg);
  for (size_t i = 0; i < whole; ++i) {
    WorkerMsg m;
    std::memcpy(&m, buf.data() + i * sizeof m, sizeof m);
    out.push_back(m);
  }
  buf.erase(0, whole * sizeof(WorkerMsg));
  return out;
}

}  // namespace ow::stress
