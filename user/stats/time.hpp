// Timestamps in sample files and on the command line. Pure, no clock reads:
// "now" is a parameter so tests pin it.
//
// Files use RFC 3339 in UTC with the fewest of 3, 6 or 9 fraction digits that
// represent the time exactly ("2025-11-23T00:46:12.345Z"): readable, sortable as
// text, and lossless for the nanosecond timestamps samples carry.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ow::stats {

// "2025-11-23T00:46:12.345Z"; times before 1970 work too.
std::string format_rfc3339(int64_t ts_ns);

// RFC 3339: YYYY-MM-DD, 'T' (or 't' or a space), hh:mm:ss, optional fraction of
// up to 9 digits, then 'Z'/'z' or +hh:mm / -hh:mm. Calendar-checked (no Feb 30);
// leap second 60 refused; times outside int64 nanoseconds (years > 2262) refused.
Result<int64_t> parse_rfc3339(std::string_view s);

// Unix seconds with an optional fraction of up to 9 digits: "1732320000.5".
Result<int64_t> parse_unix_seconds(std::string_view s);

// A command-line time T: RFC 3339, unix seconds, "now", or relative to now as a
// negative duration ("-1h", "-30m", "-1.5h"; units as in util/units.hpp).
// Errors name the value and list the accepted forms.
Result<int64_t> parse_time_arg(std::string_view s, int64_t now_ns);

}  // namespace ow::stats
