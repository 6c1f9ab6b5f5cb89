#include "fleet/overrides.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <tuple>

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

// A number in [lo, hi] with at most three decimals, as per-mille.
Result<uint32_t> per_mille(const json& o, const char* key, double lo, double hi, const std::string& where) {
  const json& v = o[key];
  const std::string name = where + "." + key;
  if (!v.is_number()) return app_error(name + " is not a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    return app_error(fmt::format("{} is {}, not a number from {} to {}", name, d, lo, hi));
  double pm = d * 1000;
  if (std::fabs(pm - std::round(pm)) > 1e-6) return app_error(fmt::format("{} {} has more than three decimals", name, d));
  return static_cast<uint32_t>(std::lround(pm));
}

Result<WorkloadOverrides> parse_workload(const json& w, const std::string& id) {
  WorkloadOverrides out;
  if (auto st = only_keys(w, {"profile", "memory_tuning", "knative_tuning"}, id); !st) return st.error();
  if (w.contains("profile")) {
    if (!w["profile"].is_string()) return app_error(id + ".profile is not dev, edge or full");
    auto p = parse_profile(w["profile"].get<std::string>());
    if (!p) return app_error(id + ".profile: " + p.error().message());
    out.profile = *p;
  }
  if (w.contains("memory_tuning")) {
    const json& m = w["memory_tuning"];
    std::string where = id + ".memory_tuning";
    if (auto st = only_keys(m, {"enabled", "enforce", "overrides", "percentile", "request_margin", "limit_margin"}, where);
        !st)
      return st.error();
    if (m.contains("enabled")) {
      auto en = flag(m, "enabled", true, where);
      if (!en) return en.error();
      out.enabled = *en;
    }
    auto enf = flag(m, "enforce", false, where);
    if (!enf) return enf.error();
    out.enforce = *enf;
    for (auto [key, dst, lo, hi] : {std::tuple{"percentile", &out.percentile_pm, 0.5, 1.0},
                                    std::tuple{"request_margin", &out.request_margin_pm, 1.0, 10.0},
                                    std::tuple{"limit_margin", &out.limit_margin_pm, 1.0, 10.0}}) {
      if (!m.contains(key)) continue;
      auto v = per_mille(m, key, lo, hi, where);
      if (!v) return v.error();
      *dst = *v;
    }
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

const char* profile_name(Profile p) {
  switch (p) {
    case Profile::Dev: return "dev";
    case Profile::Edge: return "edge";
    case Profile::Full: return "full";
  }
  return "?";
}

Result<Profile> parse_profile(const std::string& s) {
  if (s == "dev") return Profile::Dev;
  if (s == "edge") return Profile::Edge;
  if (s == "full") return Profile::Full;
  return app_error("'" + s + "' is not dev, edge or full");
}

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
