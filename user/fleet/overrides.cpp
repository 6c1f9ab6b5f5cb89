#include "fleet/overrides.hpp"

#include <nlohmann/json.hpp>

#include "fleet/yaml_json.hpp"
#include "recommend/quantity.hpp"

namespace ow::fleet {
namespace {

using json = nlohmann::json;

Status only_keys(const json& o, std::initializer_list<const char*> keys, const std::string& where) {
  if (!o.is_object()) return app_error(where + " is not an object");
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) return app_error(where + ": unknown key '" + it.key() + "'");
  }
  return {};
}

Result<bool> flag(const json& o, const char* key, bool def, const std::string& where) {
  if (!o.contains(key)) return def;
  if (!o[key].is_boolean()) return app_error(where + "." + key + " is not true or false");
  return o[key].get<bool>();
}

Result<WorkloadOverrides> parse_workload(const json& w, const std::string& id) {
  WorkloadOverrides out;
  if (auto st = only_keys(w, {"memory_tuning", "knative_tuning"}, id); !st) return st.error();
  if (w.contains("memory_tuning")) {
    const json& m = w["memory_tuning"];
    std::string where = id + ".memory_tuning";
    if (auto st = only_keys(m, {"enabled", "enforce", "overrides"}, where); !st) return st.error();
    auto en = flag(m, "enabled", true, where);
    if (!en) return en.error();
    auto enf = flag(m, "enforce", false, where);
    if (!enf) return enf.error();
    out.enabled = *en;
    out.enforce = *enf;
    if (m.contains("overrides")) {
      if (!m["overrides"].is_object()) return app_error(where + ".overrides is not an object keyed by container");
      for (auto it = m["overrides"].begin(); it != m["overrides"].end(); ++it) {
        std::string cw = where + ".overrides." + it.key();
        if (auto st = only_keys(it.value(), {"request", "limit"}, cw); !st) return st.error();
        ContainerOverride co;
        for (auto [k, dst] : {std::pair{"request", &co.request_bytes}, std::pair{"limit", &co.limit_bytes}}) {
          if (!it.value().contains(k)) continue;
          const json& v = it.value()[k];
          if (!v.is_string()) return app_error(cw + "." + k + " is not a quantity string such as \"256Mi\"");
          auto q = recommend::parse_quantity(v.get<std::string>());
          if (!q) return app_error(cw + "." + k + ": " + q.error().message());
          *dst = *q;
        }
        if (co.request_bytes && co.limit_bytes && *co.request_bytes > *co.limit_bytes)
          return app_error(cw + ": request is above the limit");
        out.containers[it.key()] = co;
      }
    }
  }
  if (w.contains("knative_tuning")) {
    const json& k = w["knative_tuning"];
    std::string where = id + ".knative_tuning";
    if (auto st = only_keys(k, {"overrides"}, where); !st) return st.error();
    if (k.contains("overrides")) {
      const json& o = k["overrides"];
      if (auto st = only_keys(o, {"containerConcurrency", "annotations"}, where + ".overrides"); !st) return st.error();
      if (o.contains("containerConcurrency")) {
        if (!o["containerConcurrency"].is_number_integer() || o["containerConcurrency"].get<int64_t>() < 0)
          return app_error(where + ".overrides.containerConcurrency is not a whole number >= 0");
        out.knative.container_concurrency = o["containerConcurrency"].get<int64_t>();
      }
      if (o.contains("annotations")) {
        if (!o["annotations"].is_object()) return app_error(where + ".overrides.annotations is not an object");
        for (auto it = o["annotations"].begin(); it != o["annotations"].end(); ++it) {
          if (!it.value().is_string())
            return app_error(where + ".overrides.annotations." + it.key() + " is not a string");
          out.knative.annotations[it.key()] = it.value().get<std::string>();
        }
      }
    }
  }
  return out;
}

}  // namespace

Result<Overrides> parse_overrides(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {  // not JSON: the seed's YAML
    auto y = yaml_to_json(text);
    if (!y) return y.error();
    j = std::move(*y);
  }
  if (!j.is_object()) return app_error("not a JSON or YAML map keyed by namespace/workload");
  Overrides out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& id = it.key();
    auto slash = id.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == id.size() || id.find('/', slash + 1) != std::string::npos)
      return app_error("key '" + id + "' is not namespace/workload");
    auto w = parse_workload(it.value(), id);
    if (!w) return w.error();
    out[id] = std::move(*w);
  }
  return out;
}

}  // namespace ow::fleet
