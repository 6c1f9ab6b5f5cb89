// GOMEMLIMIT as the Go runtime reads it from the environment, and as the hint
// log line prints it. Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ow::gomemlimit {

// GOMEMLIMIT in the Go runtime's syntax: bytes, "B", "KiB".."TiB", "off"
// (-> kUnlimited). nullopt when the runtime would reject it.
std::optional<uint64_t> parse_gomemlimit_env(std::string_view s);
// A GOMEMLIMIT value (nullptr: unset) as the hint log line prints it:
// "unset", "off", "384MiB" or "invalid(x)".
std::string describe_env_gomemlimit(const char* env_value);

}  // namespace ow::gomemlimit
