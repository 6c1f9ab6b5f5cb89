#include "stress/meminfo.hpp"

#include <cstdint>

#include "util/fs.hpp"

namespace ow::stress {

std::optional<uint64_t> parse_mem_available(std::string_view meminfo) {
  for (auto line : split_lines(meminfo)) {
    auto f = split_ws(line);
    if (f.size() < 2 || f[0] != "MemAvailable:") continue;
    uint64_t v;
    if (!parse_u64(f[1], v)) return std::nullopt;
    if (f.size() >= 3 && f[2] != "kB") return std::nullopt;
    if (f.size() >= 3 && v > UINT64_MAX / 1024) return std::nullopt;  // refuse, never wrap
    return f.size() >= 3 ? v * 1024 : v;
  }
  return std::nullopt;
}

Result<uint64_t> read_mem_available(const std::string& path) {
  auto t = read_text(path);
  if (!t) return t.error();
  auto v = parse_mem_available(*t);
  if (!v) return app_error("no MemAvailable line in", path);
  return *v;
}

}  // namespace ow::stress
