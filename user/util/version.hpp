// The version (the VERSION file) and commit (`git rev-parse --short HEAD`,
// "unknown" outside a git checkout) baked in at build time; the Makefile
// writes them to $(BUILD)/version.h, rewritten only when they change.
#pragma once

namespace ow {

const char* version();
const char* commit();

}  // namespace ow
