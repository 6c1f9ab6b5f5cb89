#include "util/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace ow {

void fault_point(const char* name) {
  static const char* armed = std::getenv("OOMWATCH_FAULT");
  if (armed && std::strcmp(armed, name) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace ow
