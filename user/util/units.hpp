// Sizes ("4096", "64K", "128M", "1.5G", "2GiB") and durations ("500ms", "30s",
// "10m", "2h"). K/M/G/T are binary (1024-based), as cgroupfs and Kubernetes' Mi
// mean; "KB"/"MB" spellings are accepted as the same binary units.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ow {

// "max" in cgroupfs and the v1 "unlimited" sentinel are both reported as this.
inline constexpr uint64_t kUnlimited = UINT64_MAX;

Result<uint64_t> parse_size(std::string_view s);
// 1536 -> "1.5KiB"; kUnlimited -> "max"
std::string format_size(uint64_t bytes);

Result<std::chrono::nanoseconds> parse_duration(std::string_view s);
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace ow
