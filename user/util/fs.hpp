// Small file helpers that return errors as values (cgroupfs and procfs files).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ow {

Result<std::string> read_text(const std::string& path);
// Writes the whole string in one write(2): cgroupfs treats each write as one value.
Status write_text(const std::string& path, std::string_view s);
Status append_line_fsync(const std::string& path, std::string_view line);
// Trims ASCII whitespace at both ends.
std::string_view trim(std::string_view s);
std::vector<std::string_view> split_lines(std::string_view s);
std::vector<std::string_view> split_ws(std::string_view s);
bool parse_u64(std::string_view s, uint64_t& out);
Status mkdir_p(const std::string& path, unsigned mode = 0755);

}  // namespace ow
