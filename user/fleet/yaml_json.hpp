// YAML text as a JSON document (yaml-cpp, linked statically), so the
// overrides file can be written in the seed's YAML as well as in JSON.
// Maps and sequences map over; a plain scalar becomes true/false, null, a
// whole number or a floating-point number when it reads as one (YAML 1.2's
// core schema), else a string; a quoted scalar is always a string. Pure.
#pragma once
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace ow::fleet {

// Bounds (docs/safety.md): nesting depth, and values made, an alias counting
// as everything it stands for.
constexpr int kMaxYamlDepth = 64;
constexpr size_t kMaxYamlNodes = 1'000'000;

// Errors name the line and column.
Result<nlohmann::json> yaml_to_json(const std::string& text);

}  // namespace ow::fleet
