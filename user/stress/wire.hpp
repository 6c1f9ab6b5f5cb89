// Worker -> controller reports: fixed-size records on a pipe. One record is one
// write(2) smaller than PIPE_BUF, so records from a worker never split or
// interleave; EOF on the pipe means the worker is gone (exited or killed).
#pragma once
#include <limits.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace ow::stress {

enum class MsgKind : uint32_t {
  Joined = 1,  // the worker is inside the cgroup; nothing allocated yet
  Step = 2,    // one more step is charged; held_bytes is the new total
  Grown = 3,   // the whole plan is charged; now holding (or cycling)
  Error = 4,   // a system call failed; err and what say which; the worker exits 1
};

struct WorkerMsg {
  MsgKind kind;
  int32_t err;          // errno (Error only)
  uint64_t held_bytes;  // bytes the worker holds, charged
  char what[112];       // Error: the failed operation and path, NUL-terminated
};
static_assert(sizeof(WorkerMsg) <= PIPE_BUF, "a record must be one atomic pipe write");

WorkerMsg make_msg(MsgKind k, uint64_t held_bytes);
WorkerMsg make_error_msg(const Error& e, uint64_t held_bytes);
Error msg_error(const WorkerMsg& m);
// Writes m to fd in one write (atomic: a record is at most PIPE_BUF);
// false when the whole record did not go out.
bool send_msg(int fd, const WorkerMsg& m);

// Appends raw bytes read from the pipe to buf and moves every complete record
// out of it; a partial record stays in buf for the next read.
std::vector<WorkerMsg> take_msgs(std::string& buf);

}  // namespace ow::stress
