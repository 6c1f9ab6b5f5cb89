// Knative Services from `kubectl get ksvc -o json` (a List or one Service):
// per namespace/name, the revision template's concurrency settings and its
// containers as written (a merge patch of the template replaces the
// containers list, so patch.hpp writes them back whole). Pure text -> data.
#pragma once
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "recommend/knative.hpp"
#include "util/result.hpp"

namespace ow::fleet {

struct KnativeService {
  std::string ns, name;
  recommend::KnativeSettings settings;
  nlohmann::ordered_json containers = nlohmann::ordered_json::array();  // spec.template.spec.containers
};

using KnativeServices = std::map<std::string, KnativeService>;  // "ns/name"

Result<KnativeServices> parse_knative_services(const std::string& text);

}  // namespace ow::fleet
