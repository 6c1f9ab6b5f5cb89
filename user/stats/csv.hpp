// CSV fields (RFC 4180) for sample files and `stats --format csv`. One record is
// one line: a field with a newline cannot be written (callers refuse it), which
// keeps "file:line" in error messages true.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ow::stats {

// Quoted (with "" for ") only when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view s);
// One line (no line terminator) -> fields. Unterminated quote or text after a
// closing quote -> error.
Result<std::vector<std::string>> csv_split(std::string_view line);

}  // namespace ow::stats
