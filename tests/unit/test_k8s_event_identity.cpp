// Who an OOM event's cgroup belongs to: runtime containers outside
// Kubernetes by the ids runtimes make (cgroupfs and systemd shapes), and the
// keys and human text events get for a Kubernetes container, a runtime
// container and any other cgroup.
#include <catch2/catch.hpp>

#include "k8s/event_identity.hpp"
#include "k8s/identity.hpp"

using namespace ow::k8s;

namespace {
const char* kUid = "1b6e3c1a-8f2e-4a51-9d37-0c2f6a8e9b10";
const char* kCid = "4f9c1d2e3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a";
}  // namespace

TEST_CASE("runtime containers outside Kubernetes are named by their id", "[k8s]") {
  std::string c = kCid;
  struct Row {
    std::string path, runtime;
  };
  const Row rows[] = {
      {"/docker/" + c, "docker"},
      {"/default/" + c, ""},  // ctr's default cgroup: /<containerd namespace>/<id>
      {"/owtest-1/plain/" + c, ""},
      {"/sys/fs/cgroup/memory/docker/" + c, "docker"},
      {"/system.slice/docker-" + c + ".scope", "docker"},
      {"/system.slice/cri-containerd-" + c + ".scope", "containerd"},
      {"/machine.slice/libpod-" + c + ".scope", "podman"},
      {"/libpod_parent/libpod-" + c, "podman"},
      {"/libpod_parent/" + c, "podman"},
      {"/system.slice/crio-" + c + ".scope", "crio"},
      {"/docker/" + c + "/", "docker"},
  };
  for (const auto& r : rows) {
    INFO(r.path);
    auto id = parse_runtime_container(r.path);
    REQUIRE(id);
    CHECK(id->id == c);
    CHECK(id->runtime == r.runtime);
  }
}

TEST_CASE("other leaves and Kubernetes paths are not runtime containers", "[k8s]") {
  std::string c = kCid;
  for (std::string p : {std::string("/"), std::string(""), std::string("/system.slice/ssh.service"),
                        std::string("/user.slice/user-0.slice/session-1.scope"), "/docker/" + c.substr(1),  // 63 digits
                        "/docker/" + c + "0",                                                              // 65
                        "/docker/" + std::string(64, 'A'),                                                 // not lowercase hex
                        "/system.slice/crio-conmon-" + c + ".scope", "/system.slice/foo-" + c + ".scope",
                        "/docker/" + c + "/sub", "/kubepods/burstable/pod" + std::string(kUid) + "/" + c,
                        "/kubepods/burstable/pod" + std::string(kUid) + "/" + c + "/" + c}) {
    INFO(p);
    CHECK_FALSE(parse_runtime_container(p));
  }
}

TEST_CASE("event identity: keys and text for a pod's container, a plain container, a plain cgroup", "[k8s]") {
  std::string c = kCid, u = kUid;
  KubeletNames names;
  names.pods_by_uid[u] = {"shop", "web-1", u};
  names.containers_by_id[c] = {"web-1", "shop", "app", c};

  auto k = identify("/owtest-9/kubepods/burstable/pod" + u + "/" + c, names);
  REQUIRE(k.kube);
  CHECK_FALSE(k.container);
  nlohmann::ordered_json ev = {{"type", "oom_kill"}};
  add_identity(ev, k);
  CHECK(ev.dump() == R"({"type":"oom_kill","kubernetes":{"namespace":"shop","pod":"web-1","container":"app","pod_uid":")" +
                         u + R"(","container_id":")" + c + R"(","qos":"burstable"}})");
  CHECK(identity_text(k) == " k8s=shop/web-1/app");

  // The logs do not know the pod: ids only, names empty.
  auto bare = identify("/kubepods/pod" + u + "/" + c, KubeletNames{});
  nlohmann::ordered_json b;
  add_identity(b, bare);
  CHECK(b["kubernetes"]["namespace"] == "");
  CHECK(b["kubernetes"]["container_id"] == c);
  CHECK(b["kubernetes"]["qos"] == "guaranteed");
  CHECK(identity_text(bare) == " k8s=pod " + u + "/container " + c.substr(0, 12));

  auto p = identify("/owtest-9/plain/" + c, names);
  CHECK_FALSE(p.kube);
  REQUIRE(p.container);
  nlohmann::ordered_json pj;
  add_identity(pj, p);
  CHECK(pj.dump() == R"({"container":{"id":")" + c + R"(","runtime":""}})");
  CHECK(identity_text(p) == " container=" + c);

  auto none = identify("/system.slice/ssh.service", names);
  nlohmann::ordered_json nj = {{"type", "oom_kill"}};
  add_identity(nj, none);
  CHECK(nj.dump() == R"({"type":"oom_kill"})");
  CHECK(identity_text(none).empty());
}
