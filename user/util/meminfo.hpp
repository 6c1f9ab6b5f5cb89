// /proc/meminfo, read one field at a time: the machine's memory (MemTotal)
// for GOMEMLIMIT hints and strict reservation, what can be allocated
// without swapping (MemAvailable) for the stress commands' bound.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ow {

inline constexpr const char* kMeminfoPath = "/proc/meminfo";

// "MemTotal:  24684092 kB" -> bytes for field "MemTotal" (a figure without a
// unit is taken as bytes). nullopt when the field is absent, not a number, in
// a unit other than kB, or too large for 64 bits in bytes (refused, never
// wrapped). Pure.
std::optional<uint64_t> parse_meminfo(std::string_view text, std::string_view field);
// The same from the file; an error names the file when it is unreadable or
// has no such line.
Result<uint64_t> read_meminfo(std::string_view field, const std::string& path = kMeminfoPath);

}  // namespace ow
