// The names of an enum's values, written once in a table that serves both
// directions: value -> name (output, audit records, flags' help) and
// name -> value (flags, config keys). Pure, constexpr.
//
//   constexpr Named<Color> kColors[] = {{Color::red, "red"}, {Color::blue, "blue"}};
//   name_of(kColors, Color::red)      -> "red"
//   parse_name(kColors, "blue")       -> Color::blue
//   name_list(kColors)                -> "red or blue"
//   name_vector(kColors)              -> {"red", "blue"}
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ow {

template <typename E>
struct Named {
  E value;
  const char* name;
};

// The name of v; `unknown` for a value the table does not hold (a cast integer).
template <typename E, size_t N>
constexpr const char* name_of(const Named<E> (&names)[N], E v, const char* unknown = "?") {
  for (const auto& n : names)
    if (n.value == v) return n.name;
  return unknown;
}

// The value named s (exact, case-sensitive); nullopt for any other text.
template <typename E, size_t N>
constexpr std::optional<E> parse_name(const Named<E> (&names)[N], std::string_view s) {
  for (const auto& n : names)
    if (s == n.name) return n.value;
  return std::nullopt;
}

// "a, b or c": the accepted names, for an error message.
template <typename E, size_t N>
std::string name_list(const Named<E> (&names)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) out += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(names[i].name);
  return out;
}

// Every name, in table order: the values a flag accepts, for its --help.
template <typename E, size_t N>
std::vector<std::string> name_vector(const Named<E> (&names)[N]) {
  std::vector<std::string> out;
  for (const auto& n : names) out.emplace_back(n.name);
  return out;
}

}  // namespace ow
