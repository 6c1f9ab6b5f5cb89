#include "fleet/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <regex>

namespace ow::fleet {
namespace {

using json = nlohmann::json;

json scalar(const YAML::Node& n) {
  const std::string& v = n.Scalar();
  if (n.Tag() == "!") return v;  // quoted: a string
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  if (v == "null" || v == "Null" || v == "NULL" || v == "~" || v.empty()) return nullptr;
  static const std::regex integer("[-+]?[0-9]+"), real("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(v, integer)) {
    errno = 0;
    long long x = std::strtoll(v.c_str(), nullptr, 10);
    if (errno == 0) return x;
  }
  if (std::regex_match(v, real)) return std::strtod(v.c_str(), nullptr);
  return v;
}

// yaml-cpp keeps an alias as a reference to its anchor's node; the JSON made
// here copies it. A few hundred bytes of nested aliases ("billion laughs")
// expand past a gigabyte, so every node made counts against a budget.
Result<json> convert(const YAML::Node& n, int depth, size_t& budget) {
  if (depth > kMaxYamlDepth) return app_error("YAML nested deeper than " + std::to_string(kMaxYamlDepth) + " levels");
  if (budget == 0)
    return app_error("YAML expands to more than " + std::to_string(kMaxYamlNodes) +
                     " values (an alias counts as everything it stands for)");
  --budget;
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return json(nullptr);
    case YAML::NodeType::Scalar: return scalar(n);
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) {
        auto v = convert(e, depth + 1, budget);
        if (!v) return v.error();
        a.push_back(std::move(*v));
      }
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return app_error("YAML map key that is not a plain value");
        auto v = convert(kv.second, depth + 1, budget);
        if (!v) return v.error();
        o[kv.first.Scalar()] = std::move(*v);
      }
      return o;
    }
  }
  return json(nullptr);
}

}  // namespace

Result<json> yaml_to_json(const std::string& text) {
  try {
    size_t budget = kMaxYamlNodes;
    return convert(YAML::Load(text), 0, budget);
  } catch (const YAML::Exception& e) {
    return app_error("YAML line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) +
                     ": " + e.msg);
  }
}

}  // namespace ow::fleet
