#include "util/version.hpp"

#include "version.h"  // generated: OOMWATCH_VERSION, OOMWATCH_COMMIT

namespace ow {

const char* version() { return OOMWATCH_VERSION; }
const char* commit() { return OOMWATCH_COMMIT; }

}  // namespace ow
