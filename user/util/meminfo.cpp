#include "util/meminfo.hpp"

#include "util/fs.hpp"

namespace ow {

std::optional<uint64_t> parse_meminfo(std::string_view text, std::string_view field) {
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    if (f.size() < 2 || f[0].size() != field.size() + 1 || !f[0].starts_with(field) || f[0].back() != ':') continue;
    uint64_t v;
    if (!parse_u64(f[1], v)) return std::nullopt;
    if (f.size() < 3) return v;
    if (f[2] != "kB" || v > UINT64_MAX / 1024) return std::nullopt;
    return v * 1024;
  }
  return std::nullopt;
}

Result<uint64_t> read_meminfo(std::string_view field, const std::string& path) {
  auto t = read_text(path);
  if (!t) return t.error();
  auto v = parse_meminfo(*t, field);
  if (!v) return app_error("no " + std::string(field) + " line in", path);
  return *v;
}

}  // namespace ow
