// Ownership from kube-state-metrics' kube_pod_owner and kube_replicaset_owner:
// the workload and its kind, the owner label and the pod's name as fallbacks.
#include <catch2/catch.hpp>

#include "fleet/aggregate.hpp"
#include "fleet/owners.hpp"

using namespace ow::fleet;

namespace {

Series owner(const std::string& ns, const std::string& objlabel, const std::string& obj, const std::string& kind,
             const std::string& name) {
  return Series{{{"namespace", ns}, {objlabel, obj}, {"owner_kind", kind}, {"owner_name", name},
                 {"owner_is_controller", "true"}},
                {{1000, 1}}};
}

OwnerTables tables() {
  return owner_tables(
      {
          owner("shop", "pod", "checkout-blue-main", "ReplicaSet", "checkout-6f9d8c7b5"),
          owner("shop", "pod", "canary-7c9d8f6b5-xk2lp", "ReplicaSet", "canary-7c9d8f6b5"),
          owner("shop", "pod", "db-primary", "StatefulSet", "db"),
          owner("shop", "pod", "node-agent-x", "DaemonSet", "node-agent"),
          owner("shop", "pod", "nightly-28312345-abcde", "Job", "nightly-28312345"),
          owner("shop", "pod", "web-7d4b9c8f6-bcdfg", "<none>", "<none>"),
          owner("shop", "pod", "lonely-rs-pod", "ReplicaSet", "lonely-rs"),
          owner("kn", "pod", "hello-00001-deployment-6b7c8d9f5-qwrtz", "ReplicaSet", "hello-00001-deployment-6b7c8d9f5"),
          Series{{{"pod", "no-namespace"}, {"owner_kind", "Job"}, {"owner_name", "x"}}, {{1000, 1}}},
      },
      {
          owner("shop", "replicaset", "checkout-6f9d8c7b5", "Deployment", "checkout"),
          owner("shop", "replicaset", "canary-7c9d8f6b5", "Rollout", "canary"),
          owner("shop", "replicaset", "lonely-rs", "<none>", "<none>"),
          owner("kn", "replicaset", "hello-00001-deployment-6b7c8d9f5", "Deployment", "hello-00001-deployment"),
      });
}

}  // namespace

TEST_CASE("fleet owners: pod -> ReplicaSet -> its owner, or the pod's controller directly", "[fleet][owners]") {
  auto t = tables();
  CHECK(t.pods.size() == 8);  // the series without a namespace is skipped
  struct Case {
    const char *ns, *pod, *kind, *name, *via;
  };
  const Case cases[] = {
      // A name no generator makes: only kube-state-metrics knows it is the Deployment's.
      {"shop", "checkout-blue-main", "Deployment", "checkout",
       "pod checkout-blue-main -> ReplicaSet checkout-6f9d8c7b5 -> Deployment checkout"},
      // Looks like a Deployment's pod, but an Argo Rollout owns the ReplicaSet.
      {"shop", "canary-7c9d8f6b5-xk2lp", "Rollout", "canary",
       "pod canary-7c9d8f6b5-xk2lp -> ReplicaSet canary-7c9d8f6b5 -> Rollout canary"},
      {"shop", "db-primary", "StatefulSet", "db", "pod db-primary -> StatefulSet db"},
      {"shop", "node-agent-x", "DaemonSet", "node-agent", "pod node-agent-x -> DaemonSet node-agent"},
      {"shop", "nightly-28312345-abcde", "Job", "nightly-28312345", "pod nightly-28312345-abcde -> Job nightly-28312345"},
      // kube-state-metrics says no owner: a bare pod, whatever its name looks like.
      {"shop", "web-7d4b9c8f6-bcdfg", "Pod", "web-7d4b9c8f6-bcdfg", "pod web-7d4b9c8f6-bcdfg (no owner)"},
      {"shop", "lonely-rs-pod", "ReplicaSet", "lonely-rs", "pod lonely-rs-pod -> ReplicaSet lonely-rs (no owner)"},
      // A Knative revision's Deployment is its Service.
      {"kn", "hello-00001-deployment-6b7c8d9f5-qwrtz", "Service", "hello",
       "pod hello-00001-deployment-6b7c8d9f5-qwrtz -> ReplicaSet hello-00001-deployment-6b7c8d9f5 -> Deployment "
       "hello-00001-deployment -> Knative Service hello"},
  };
  for (const auto& c : cases) {
    INFO(c.pod);
    auto o = resolve_owner(&t, c.ns, c.pod, "fn-class");  // the owner label does not win over kube-state-metrics
    CHECK(o.workload.kind == c.kind);
    CHECK(o.workload.name == c.name);
    CHECK(o.from == "kube_pod_owner");
    CHECK(o.via == c.via);
  }
  // Same pod name in another namespace: not the same pod.
  CHECK(resolve_owner(&t, "other", "checkout-blue-main", "").from == "name");
}

TEST_CASE("fleet owners: without kube_pod_owner, the owner label, then the pod's name", "[fleet][owners]") {
  auto t = tables();
  auto named = resolve_owner(&t, "shop", "web-7d4b9c8f6-hjklm", "");
  CHECK(named.workload.kind == "Deployment");
  CHECK(named.workload.name == "web");
  CHECK(named.from == "name");
  CHECK(named.via.empty());
  auto labelled = resolve_owner(nullptr, "oaas", "fn-runtime-0", "fn-class");
  CHECK(labelled.workload.kind == "StatefulSet");
  CHECK(labelled.workload.name == "fn-class");
  CHECK(labelled.from == "owner_label");
  auto bare = resolve_owner(nullptr, "shop", "checkout-blue-main", "");
  CHECK(bare.workload.kind == "Pod");  // what the name alone would say
  CHECK(bare.from == "name");
  CHECK(patch_resource("Deployment") == std::string("deployment"));
  CHECK(patch_resource("Service") == std::string("ksvc"));
  CHECK(patch_resource("Rollout") == nullptr);
  CHECK(patch_resource("Job") == nullptr);
}

TEST_CASE("fleet owners: series pooled under kube-state-metrics' workload", "[fleet][owners]") {
  auto t = tables();
  LabelNames n;
  std::vector<Series> in = {
      {{{"namespace", "shop"}, {"pod", "checkout-blue-main"}, {"container", "app"}}, {{1000, 10}}},
      {{{"namespace", "shop"}, {"pod", "checkout-6f9d8c7b5-bcdfg"}, {"container", "app"}}, {{2000, 20}}},  // no owner series: by name
      {{{"namespace", "shop"}, {"pod", "canary-7c9d8f6b5-xk2lp"}, {"container", "app"}}, {{1000, 30}}},
  };
  auto g = group_series(in, n, true, &t);
  REQUIRE(g.size() == 2);
  const Group& co = g.at(Key{"shop", "checkout", "app"});
  CHECK(co.kind == "Deployment");
  CHECK(co.pods.size() == 2);
  CHECK(co.owner_from == "kube_pod_owner");  // its word wins when only some pods have it
  CHECK(co.owner_via == "pod checkout-blue-main -> ReplicaSet checkout-6f9d8c7b5 -> Deployment checkout");
  CHECK(g.at(Key{"shop", "canary", "app"}).kind == "Rollout");
  auto plain = group_series(in, n);  // no tables: by name
  CHECK(plain.count(Key{"shop", "checkout-blue-main", "app"}) == 1);
  CHECK(plain.at(Key{"shop", "canary", "app"}).kind == "Deployment");
}
