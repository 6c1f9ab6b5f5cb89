#include "k8s/pods.hpp"

#include <nlohmann/json.hpp>

#include "recommend/quantity.hpp"

namespace ow::k8s {
namespace {

using nlohmann::json;

Status add_pod(const json& pod, PodResources& out) {
  if (!pod.is_object() || !pod.contains("metadata") || !pod["metadata"].is_object())
    return app_error("pods file: an item without metadata");
  const json& md = pod["metadata"];
  if (!md.contains("uid") || !md["uid"].is_string()) return app_error("pods file: a pod without metadata.uid");
  std::string uid = md["uid"].get<std::string>();
  std::string name = md.contains("name") && md["name"].is_string() ? md["name"].get<std::string>() : uid;
  if (!pod.contains("spec") || !pod["spec"].contains("containers") || !pod["spec"]["containers"].is_array()) return {};
  for (const json& c : pod["spec"]["containers"]) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
    std::string cname = c["name"].get<std::string>();
    ContainerResources r;
    if (c.contains("resources") && c["resources"].is_object()) {
      const json& res = c["resources"];
      for (auto [key, slot] : {std::pair{"requests", &r.request_bytes}, std::pair{"limits", &r.limit_bytes}}) {
        if (!res.contains(key) || !res[key].is_object() || !res[key].contains("memory")) continue;
        const json& m = res[key]["memory"];
        std::string text = m.is_string() ? m.get<std::string>() : m.is_number_unsigned() ? std::to_string(m.get<uint64_t>()) : "";
        auto q = recommend::parse_quantity(text);
        if (!q) return app_error("pods file: pod " + name + " container " + cname + " " + key + ".memory: " + q.error().message());
        *slot = *q;
      }
    }
    out[{uid, cname}] = r;
  }
  return {};
}

}  // namespace

Result<PodResources> parse_pods_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return app_error("pods file is not JSON (want the output of kubectl get pods -o json)");
  if (!j.is_object()) return app_error("pods file: want a Pod or a List of Pods (kubectl get pods -o json)");
  PodResources out;
  if (j.contains("items") && j["items"].is_array()) {
    for (const json& p : j["items"])
      if (auto st = add_pod(p, out); !st) return st.error();
  } else if (j.contains("kind") && j["kind"].is_string() && j["kind"] == "Pod") {
    if (auto st = add_pod(j, out); !st) return st.error();
  } else {
    return app_error("pods file: want a Pod or a List of Pods (kubectl get pods -o json)");
  }
  return out;
}

}  // namespace ow::k8s
