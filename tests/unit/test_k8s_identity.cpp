// Kubernetes identity from literal cgroup paths (both kubelet cgroup drivers,
// every QoS class, v1 mount prefix, nested cgroup roots) and from kubelet log
// names, and names read from a real kubelet-shaped log tree.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "k8s/identity.hpp"
#include "k8s/kubelet_logs.hpp"
#include "test_store_tmp.hpp"

using namespace ow::k8s;

namespace {
const char* kUid = "1b6e3c1a-8f2e-4a51-9d37-0c2f6a8e9b10";
const char* kUidU = "1b6e3c1a_8f2e_4a51_9d37_0c2f6a8e9b10";
const char* kCid = "4f9c1d2e3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a";
}  // namespace

TEST_CASE("cgroup paths of both drivers map to pod uid and container id", "[k8s]") {
  std::string u = kUid, uu = kUidU, c = kCid;
  struct Row {
    std::string path, qos, uid, cid, runtime;
  };
  const Row rows[] = {
      {"/kubepods/burstable/pod" + u + "/" + c, "burstable", u, c, ""},
      {"/kubepods/besteffort/pod" + u + "/" + c, "besteffort", u, c, ""},
      {"/kubepods/pod" + u + "/" + c, "guaranteed", u, c, ""},
      {"/kubepods/burstable/pod" + u, "burstable", u, "", ""},
      {"/sys/fs/cgroup/memory/kubepods/burstable/pod" + u + "/" + c, "burstable", u, c, ""},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice/cri-containerd-" + c + ".scope",
       "burstable", u, c, "containerd"},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uu + ".slice/crio-" + c + ".scope",
       "besteffort", u, c, "crio"},
      {"/kubepods.slice/kubepods-pod" + uu + ".slice/docker-" + c + ".scope", "guaranteed", u, c, "docker"},
      {"/kubepods.slice/kubepods-pod" + uu + ".slice", "guaranteed", u, "", ""},
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod" + uu +
           ".slice/cri-containerd-" + c + ".scope",
       "burstable", u, c, "containerd"},
      {"/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice", "burstable", u,
       "", ""},
      {"/test/owtest-1/kubepods/burstable/pod" + u + "/" + c, "burstable", u, c, ""},
  };
  for (const auto& r : rows) {
    INFO(r.path);
    auto id = parse_cgroup_path(r.path);
    if (r.uid.empty()) {
      CHECK_FALSE(id);
      continue;
    }
    REQUIRE(id);
    CHECK(id->qos == r.qos);
    CHECK(id->pod_uid == r.uid);
    CHECK(id->container_id == r.cid);
    CHECK(id->runtime == r.runtime);
  }
}

TEST_CASE("paths that are not a pod or container stay plain cgroups", "[k8s]") {
  std::string u = kUid, uu = kUidU, c = kCid;
  for (std::string p : {std::string("/"), std::string("/system.slice/ssh.service"), std::string("/kubepods"),
                        std::string("/kubepods/burstable"), std::string("/kubepods.slice/kubepods-burstable.slice"),
                        "/kubepods/burstable/pod" + u + "/" + c + "/sub",
                        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uu + ".slice/crio-conmon-" + c +
                            ".scope",
                        "/kubepods.slice/kubepods-pod" + uu + ".slice/" + c, std::string("/kubepods/burstable/pod"),
                        std::string("/mykubepods/pod1/x")}) {
    INFO(p);
    CHECK_FALSE(parse_cgroup_path(p));
  }
}

TEST_CASE("kubelet log names", "[k8s]") {
  auto d = parse_pod_log_dir(std::string("shop_web-7d4b9c_") + kUid);
  REQUIRE(d);
  CHECK(d->ns == "shop");
  CHECK(d->pod == "web-7d4b9c");
  CHECK(d->uid == kUid);
  CHECK_FALSE(parse_pod_log_dir("nouid"));
  CHECK_FALSE(parse_pod_log_dir("a_b_c_d"));
  auto l = parse_container_log(std::string("web-7d4b9c_shop_side-car-") + kCid + ".log");
  REQUIRE(l);
  CHECK(l->pod == "web-7d4b9c");
  CHECK(l->ns == "shop");
  CHECK(l->container == "side-car");
  CHECK(l->container_id == kCid);
  CHECK_FALSE(parse_container_log("web_shop_app.log"));
  CHECK_FALSE(parse_container_log(std::string("web_shop_app-") + kCid));
}

TEST_CASE("names from a kubelet-shaped log tree", "[k8s]") {
  owtest::TempDir t;
  std::string pods = t / "pods", cont = t / "containers";
  ::mkdir(pods.c_str(), 0755);
  ::mkdir(cont.c_str(), 0755);
  std::string pdir = pods + "/shop_web-1_" + kUid;
  ::mkdir(pdir.c_str(), 0755);
  ::mkdir((pdir + "/app").c_str(), 0755);
  std::string log = pdir + "/app/0.log";
  std::ofstream(log) << "x\n";
  REQUIRE(::symlink(log.c_str(), (cont + "/web-1_shop_app-" + kCid + ".log").c_str()) == 0);
  auto names = read_kubelet_logs(t.path);
  REQUIRE(names.ok());
  std::string c = kCid;
  auto n = name_cgroup(std::string("/kubepods/burstable/pod") + kUid + "/" + c, *names);
  REQUIRE(n);
  CHECK(display_name(*n) == "shop/web-1/app");
  auto pod = name_cgroup(std::string("/kubepods/burstable/pod") + kUid, *names);
  REQUIRE(pod);
  CHECK(display_name(*pod) == "shop/web-1");
  auto unknown = name_cgroup("/kubepods/pod0000/abcdef0123456789", *names);
  REQUIRE(unknown);
  CHECK(display_name(*unknown) == "pod 0000/container abcdef012345");
  CHECK_FALSE(name_cgroup("/system.slice", *names));
  auto none = read_kubelet_logs(t / "missing");
  REQUIRE(none.ok());
  CHECK(none->pods_by_uid.empty());
}
