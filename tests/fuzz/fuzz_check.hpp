// Shared by the fuzz targets: a broken invariant is a finding; say which,
// then trap (libFuzzer keeps the input as a crash artifact).
#pragma once
#include <cstdio>
#include <string_view>

#define CHECK(c)                                                                        \
  do {                                                                                  \
    if (!(c)) {                                                                         \
      std::fprintf(stderr, "invariant failed: %s at %s:%d\n", #c, __FILE__, __LINE__); \
      __builtin_trap();                                                                 \
    }                                                                                   \
  } while (0)

namespace ow::fuzz {

inline bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace ow::fuzz
