// libFuzzer target: the Kubernetes inputs `recommend` reads from the node,
// none of them oomwatch's own: cgroup paths, kubelet log names, memory
// quantities and `kubectl get pods -o json` text. The whole input goes to
// every parser; invariants:
//   quantity: what parses formats (quantity()) and parses back to the same bytes;
//   cgroup path: an identified path has a pod uid, and its container id (if
//                any) appears in the path;
//   runtime container: 64 characters found in the path, never a kubepods path;
//   log names: the parts come back in the name;
//   pods json: no crash and no exception escapes (a wrong type is an error).
#include <cstdint>
#include <string>
#include <string_view>

#include "k8s/identity.hpp"
#include "k8s/pods.hpp"
#include "recommend/quantity.hpp"
#include "fuzz_check.hpp"

using namespace ow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto q = recommend::parse_quantity(in)) {
    auto back = recommend::parse_quantity(recommend::quantity(*q));
    CHECK(back.ok() && *back == *q);
  }
  if (auto id = k8s::parse_cgroup_path(in)) {
    CHECK(!id->pod_uid.empty());
    CHECK(id->container_id.empty() || in.find(id->container_id) != std::string_view::npos);
    CHECK(k8s::kubernetes_owned(in));
  }
  if (auto c = k8s::parse_runtime_container(in)) {
    CHECK(c->id.size() == 64 && in.find(c->id) != std::string_view::npos);
    CHECK(!k8s::kubernetes_owned(in));
  }
  if (auto d = k8s::parse_pod_log_dir(in)) CHECK(std::string(in) == d->ns + "_" + d->pod + "_" + d->uid);
  if (auto l = k8s::parse_container_log(in))
    CHECK(std::string(in) == l->pod + "_" + l->ns + "_" + l->container + "-" + l->container_id + ".log");
  (void)k8s::parse_pods_json(in);
  return 0;
}
