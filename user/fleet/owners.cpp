#include "fleet/owners.hpp"

namespace ow::fleet {
namespace {

std::string label_of(const Labels& l, const std::string& n) {
  auto it = l.find(n);
  return it == l.end() ? std::string() : it->second;
}

bool owned(const OwnerRef& r) { return !r.kind.empty() && r.kind != "<none>" && !r.name.empty() && r.name != "<none>"; }

Workload knative_or(Workload w) {
  if (w.kind == "Deployment")
    if (auto svc = knative_service_of(w.name); !svc.empty()) return {"Service", svc};
  return w;
}

}  // namespace

OwnerTables owner_tables(const std::vector<Series>& pod_owner, const std::vector<Series>& replicaset_owner,
                         const std::string& ns_label, const std::string& pod_label) {
  OwnerTables t;
  for (auto [in, out, key] : {std::tuple{&pod_owner, &t.pods, pod_label}, std::tuple{&replicaset_owner, &t.replicasets,
                                                                                     std::string("replicaset")}})
    for (const auto& s : *in) {
      std::string ns = label_of(s.labels, ns_label), obj = label_of(s.labels, key);
      if (ns.empty() || obj.empty()) continue;
      (*out)[{ns, obj}] = OwnerRef{label_of(s.labels, "owner_kind"), label_of(s.labels, "owner_name")};
    }
  return t;
}

Owned resolve_owner(const OwnerTables* t, const std::string& ns, const std::string& pod, const std::string& owner_label) {
  if (t)
    if (auto p = t->pods.find({ns, pod}); p != t->pods.end()) {
      Owned o;
      o.from = kFromPodOwner;
      o.via = "pod " + pod;
      const OwnerRef& po = p->second;
      if (!owned(po)) {
        o.workload = {"Pod", pod};
        o.via += " (no owner)";
        return o;
      }
      o.via += " -> " + po.kind + " " + po.name;
      o.workload = {po.kind, po.name};
      if (po.kind == "ReplicaSet") {
        auto r = t->replicasets.find({ns, po.name});
        if (r != t->replicasets.end() && owned(r->second)) {
          o.workload = {r->second.kind, r->second.name};
          o.via += " -> " + r->second.kind + " " + r->second.name;
        } else {
          o.via += r == t->replicasets.end() ? " (no kube_replicaset_owner series)" : " (no owner)";
        }
      }
      Workload k = knative_or(o.workload);
      if (k.kind != o.workload.kind) o.via += " -> Knative Service " + k.name;
      o.workload = k;
      return o;
    }
  Workload w = knative_or(workload_of_pod(pod));
  if (!owner_label.empty()) return {{w.kind, owner_label}, kFromOwnerLabel, ""};
  return {w, kFromName, ""};
}

const char* patch_resource(const std::string& kind) {
  if (kind == "Deployment") return "deployment";
  if (kind == "StatefulSet") return "statefulset";
  if (kind == "DaemonSet") return "daemonset";
  if (kind == "Service") return "ksvc";
  return nullptr;
}

}  // namespace ow::fleet
