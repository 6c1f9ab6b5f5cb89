// Operator log (stderr via spdlog). Events, samples and decisions go to sinks,
// not here. libbpf's own print callback is routed into the same logger so its
// output obeys the log level instead of spraying verifier dumps on stderr.
#pragma once
#include <spdlog/spdlog.h>

namespace ow {

// level: "debug", "info", "warn", "error"; unknown -> info.
void setup_logging(const std::string& level);

}  // namespace ow
