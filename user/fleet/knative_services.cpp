#include "fleet/knative_services.hpp"
#include "util/text.hpp"

#include <cstdlib>

namespace ow::fleet {
namespace {

using ojson = nlohmann::ordered_json;

constexpr double kMaxAnnotationValue = 1e9;

// j[k] without the const operator[]'s assertion on a missing key: null instead.
const ojson& get(const ojson& j, const char* k) {
  static const ojson null;
  if (!j.is_object()) return null;
  auto it = j.find(k);
  return it == j.end() ? null : *it;
}

Result<double> number_annotation(const ojson& ann, const char* key, const std::string& svc) {
  const auto& v = get(ann, key);
  std::string s = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  // inf and 1e300 parse as numbers; the arithmetic after (× 1.2 into an
  // int64) needs a finite one in a range a target can have.
  if (s.empty() || *end || !(d > 0) || !(d <= kMaxAnnotationValue))
    return app_error(std::string("Knative Service ") + svc + ": annotation " + key + " '" + excerpt(s) +
                     "' is not a positive number up to 1e9");
  return d;
}

Result<KnativeService> parse_one(const ojson& item) {
  if (!get(item, "metadata").is_object()) return app_error("Knative Service without metadata");
  KnativeService k;
  const ojson& md = get(item, "metadata");
  if (!get(md, "name").is_null() && !get(md, "name").is_string()) return app_error("Knative Service: metadata.name is not a string");
  if (!get(md, "namespace").is_null() && !get(md, "namespace").is_string())
    return app_error("Knative Service: metadata.namespace is not a string");
  k.name = md.value("name", "");
  k.ns = md.value("namespace", "default");
  if (k.name.empty()) return app_error("Knative Service without metadata.name");
  std::string id = k.ns + "/" + k.name;
  const ojson& tpl = get(get(item, "spec"), "template");
  const ojson& ann = get(get(tpl, "metadata"), "annotations");
  if (ann.is_object()) {
    if (ann.contains(recommend::kTargetAnnotation)) {
      auto t = number_annotation(ann, recommend::kTargetAnnotation, id);
      if (!t) return t.error();
      k.settings.target = *t;
    }
    if (ann.contains(recommend::kBurstAnnotation)) {
      const auto& v = get(ann, recommend::kBurstAnnotation);
      std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end) return app_error("Knative Service " + id + ": targetBurstCapacity '" + excerpt(s) + "' is not a number");
      k.settings.target_burst_capacity = d;
    }
    if (get(ann, recommend::kMetricAnnotation).is_string())
      k.settings.metric = get(ann, recommend::kMetricAnnotation).get<std::string>();
  }
  const ojson& spec = get(tpl, "spec");
  if (spec.is_object() && spec.contains("containerConcurrency")) {
    const auto& cc = get(spec, "containerConcurrency");
    if (!cc.is_number_integer() || cc.get<int64_t>() < 0)
      return app_error("Knative Service " + id + ": containerConcurrency " + cc.dump() + " is not a whole number >= 0");
    k.settings.container_concurrency = cc.get<int64_t>();
  }
  if (get(spec, "containers").is_array()) k.containers = get(spec, "containers");
  return k;
}

}  // namespace

Result<KnativeServices> parse_knative_services(const std::string& text) {
  ojson j = ojson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return app_error("not JSON (kubectl get ksvc -o json)");
  KnativeServices out;
  auto add = [&](const ojson& item) -> Status {
    auto k = parse_one(item);
    if (!k) return k.error();
    out[k->ns + "/" + k->name] = std::move(*k);
    return {};
  };
  if (j.contains("items")) {
    if (!get(j, "items").is_array()) return app_error("items is not a list");
    for (const auto& it : get(j, "items"))
      if (auto st = add(it); !st) return st.error();
  } else if (auto st = add(j); !st) {
    return st.error();
  }
  return out;
}

}  // namespace ow::fleet
