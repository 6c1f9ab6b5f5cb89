#include "k8s/event_identity.hpp"

#include "util/text.hpp"

namespace ow::k8s {

EventIdentity identify(const std::string& cgroup, const KubeletNames& names) {
  EventIdentity out;
  out.kube = name_cgroup(cgroup, names);
  if (!out.kube) out.container = parse_runtime_container(cgroup);
  return out;
}

EventIdentity identify_reading(const std::string& cgroup, const std::string& log_dir) {
  if (!parse_cgroup_path(cgroup)) return identify(cgroup, {});
  auto names = read_kubelet_logs(log_dir);
  return identify(cgroup, names ? *names : KubeletNames{});
}

void add_identity(nlohmann::ordered_json& ev, const EventIdentity& id) {
  if (id.kube) {
    const Named& n = *id.kube;
    // Names are directory names: bytes, written as the other path fields are.
    ev["kubernetes"] = {{"namespace", printable(n.ns)},
                        {"pod", printable(n.pod)},
                        {"container", printable(n.container)},
                        {"pod_uid", n.id.pod_uid},
                        {"container_id", n.id.container_id},
                        {"qos", n.id.qos}};
  } else if (id.container) {
    ev["container"] = {{"id", id.container->id}, {"runtime", id.container->runtime}};
  }
}

std::string identity_text(const EventIdentity& id) {
  if (id.kube) return " k8s=" + printable(display_name(*id.kube));
  if (id.container) return " container=" + id.container->id;
  return "";
}

}  // namespace ow::k8s
