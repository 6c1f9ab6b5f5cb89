#include "fleet/fleet_state.hpp"

#include <nlohmann/json.hpp>

#include "stats/time.hpp"

namespace ow::fleet {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

struct Bad {
  std::string what;
};

const json& object(const json& j, const std::string& where) {
  if (!j.is_object()) throw Bad{where + " is not an object"};
  return j;
}
int64_t integer(const json& j, const std::string& where) {
  if (!j.is_number_integer()) throw Bad{where + " is not an integer"};
  return j.get<int64_t>();
}
std::optional<uint64_t> bytes_or_null(const json& o, const char* key, const std::string& where) {
  if (!o.contains(key) || o[key].is_null()) return std::nullopt;
  if (!o[key].is_number_unsigned()) throw Bad{where + "." + key + " is not a byte count"};
  return o[key].get<uint64_t>();
}
std::optional<int64_t> int_or_null(const json& o, const char* key, const std::string& where) {
  if (!o.contains(key) || o[key].is_null()) return std::nullopt;
  return integer(o[key], where + "." + key);
}
int64_t at_of(const json& o, const std::string& where) {
  if (!o.contains("at_ms")) throw Bad{where + ".at_ms is missing"};
  return integer(o["at_ms"], where + ".at_ms");
}
StoredFigures figures(const json& j, const std::string& where) {
  object(j, where);
  return {bytes_or_null(j, "request_bytes", where), bytes_or_null(j, "limit_bytes", where), at_of(j, where)};
}

ojson bytes_json(const std::optional<uint64_t>& b) { return b ? ojson(*b) : ojson(nullptr); }
ojson at_json(int64_t ms) { return stats::format_rfc3339(ms * 1'000'000); }
ojson figures_json(const StoredFigures& f) {
  return {{"request_bytes", bytes_json(f.request_bytes)}, {"limit_bytes", bytes_json(f.limit_bytes)},
          {"at_ms", f.at_ms}, {"at", at_json(f.at_ms)}};
}

}  // namespace

Result<FleetState> parse_state(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return usage_error("not JSON");
  try {
    object(doc, "the document");
    if (!doc.contains("version") || doc["version"] != kStateVersion)
      throw Bad{"version is not " + std::to_string(kStateVersion)};
    FleetState s;
    if (!doc.contains("workloads")) return s;
    for (const auto& [id, w] : object(doc["workloads"], "workloads").items()) {
      object(w, id);
      StoredWorkload& sw = s.workloads[id];
      sw.last_applied_ms = int_or_null(w, "last_applied_ms", id);
      if (w.contains("containers"))
        for (const auto& [cn, c] : object(w["containers"], id + ".containers").items()) {
          std::string where = id + ".containers." + cn;
          object(c, where);
          StoredContainer& sc = sw.containers[cn];
          if (c.contains("recommended") && !c["recommended"].is_null())
            sc.recommended = figures(c["recommended"], where + ".recommended");
          if (c.contains("applied") && !c["applied"].is_null()) sc.applied = figures(c["applied"], where + ".applied");
        }
      if (w.contains("knative") && !w["knative"].is_null()) {
        const json& k = object(w["knative"], id + ".knative");
        sw.knative = StoredKnative{int_or_null(k, "target", id + ".knative"),
                                   int_or_null(k, "container_concurrency", id + ".knative"), at_of(k, id + ".knative")};
      }
    }
    return s;
  } catch (const Bad& b) {
    return usage_error(b.what);
  }
}

std::string state_text(const FleetState& s) {
  ojson ws = ojson::object();
  for (const auto& [id, w] : s.workloads) {
    ojson j = ojson::object();
    if (w.last_applied_ms) j["last_applied_ms"] = *w.last_applied_ms, j["last_applied"] = at_json(*w.last_applied_ms);
    ojson cs = ojson::object();
    for (const auto& [cn, c] : w.containers) {
      ojson cj = ojson::object();
      if (c.recommended) cj["recommended"] = figures_json(*c.recommended);
      if (c.applied) cj["applied"] = figures_json(*c.applied);
      cs[cn] = cj;
    }
    j["containers"] = cs;
    if (w.knative)
      j["knative"] = {{"target", w.knative->target ? ojson(*w.knative->target) : ojson(nullptr)},
                      {"container_concurrency",
                       w.knative->container_concurrency ? ojson(*w.knative->container_concurrency) : ojson(nullptr)},
                      {"at_ms", w.knative->at_ms},
                      {"at", at_json(w.knative->at_ms)}};
    ws[id] = j;
  }
  return ojson{{"version", kStateVersion}, {"workloads", ws}}.dump(2) + "\n";
}

}  // namespace ow::fleet
