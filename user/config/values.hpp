// Internal to user/config: one TOML value -> one C++ value, or an error that
// names the file, the line and the dotted key ("cgroup[1].floor").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <stdexcept>

// toml++ 3.3 asserts on some malformed files ("[=" reaches parse_key with
// neither a key character nor a quote: upstream PR #301); a plain assert()
// would abort `oomwatch run`. The assertion becomes an exception, which
// parse_config reports as a parse error of the file.
// In toml++'s few noexcept functions a failed assertion still terminates, as
// before (hence no -Wterminate for the two files that include this header).
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) ((expr) ? void(0) : throw std::runtime_error("malformed TOML"))
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wterminate"
#endif
#include <toml++/toml.h>

#include "util/result.hpp"

namespace ow::config::detail {

struct Where {
  const std::string& file;
  std::string key;  // dotted path: "min_step", "cgroup[1].floor"
  uint32_t line = 0;
};

Where where(const std::string& file, std::string key, const toml::node& n);
// "FILE:LINE: KEY: msg"
Error error_at(const Where& w, const std::string& msg);

Result<bool> to_bool(const toml::node& n, const Where& w);
Result<std::string> to_string(const toml::node& n, const Where& w);   // non-empty
Result<int64_t> to_int(const toml::node& n, const Where& w, int64_t lo, int64_t hi);
// "64M"/"max" via parse_size, or an integer >= 0 (bytes).
Result<uint64_t> to_size(const toml::node& n, const Where& w);
// "500ms" via parse_duration, or an integer >= 0 (seconds); must be > 0 unless allow_zero.
Result<int64_t> to_duration_ns(const toml::node& n, const Where& w, bool allow_zero);
// Array of non-empty strings.
Result<std::vector<std::string>> to_strings(const toml::node& n, const Where& w);

// reserve: "5%" or a float in [0, 1) -> fraction; a size or integer -> bytes.
struct Reserve {
  double fraction = 0;
  uint64_t bytes = 0;
};
Result<Reserve> to_reserve(const toml::node& n, const Where& w);

}  // namespace ow::config::detail
