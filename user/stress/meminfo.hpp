// MemAvailable: the kernel's estimate of what can be allocated without
// swapping, the ceiling for a run that no cgroup limit protects the node from.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/meminfo.hpp"
#include "util/result.hpp"

namespace ow::stress {

// Bytes.
inline std::optional<uint64_t> parse_mem_available(std::string_view meminfo) {
  return parse_meminfo(meminfo, "MemAvailable");
}
inline Result<uint64_t> read_mem_available(const std::string& path = kMeminfoPath) {
  return read_meminfo("MemAvailable", path);
}

}  // namespace ow::stress
