// k8s::NameCache: when the kubelet's log tree is read (at most once a learn,
// only for Kubernetes paths not named yet, a miss retried after kRetryNs),
// what lookup() gives, and that names of pods gone are forgotten.
#include <catch2/catch.hpp>

#include "k8s/name_cache.hpp"

using namespace ow;
using namespace ow::k8s;

namespace {

constexpr const char* kUid = "1b6e3c1a-8f2e-4a51-9d37-0c2f6a8e9b10";
const std::string kCid = "4f9c1d2e3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a";
const std::string kPod = std::string("/kubepods/burstable/pod") + kUid;
const std::string kCtr = kPod + "/" + kCid;
constexpr int64_t kSec = 1'000'000'000;

KubeletNames web1(bool with_container) {
  KubeletNames n;
  n.pods_by_uid[kUid] = {"shop", "web-1", kUid};
  n.pods_by_uid["other-uid"] = {"kube-system", "dns", "other-uid"};
  if (with_container) n.containers_by_id[kCid] = {"web-1", "shop", "app", kCid};
  return n;
}

}  // namespace

TEST_CASE("NameCache reads the log tree only for Kubernetes paths it cannot name yet", "[k8s][unit]") {
  int reads = 0;
  bool with_container = true;
  NameCache c([&]() -> Result<KubeletNames> {
    ++reads;
    return web1(with_container);
  });
  // No Kubernetes path: no read, nothing named.
  CHECK_FALSE(c.learn({"/", "/system.slice/ssh.service"}, 0));
  CHECK(reads == 0);
  CHECK_FALSE(c.lookup("/system.slice/ssh.service").kube);

  CHECK(c.learn({"/", kPod, kCtr}, 1 * kSec));
  CHECK(reads == 1);
  auto who = c.lookup(kCtr);
  REQUIRE(who.kube);
  CHECK(display_name(*who.kube) == "shop/web-1/app");
  CHECK(who.kube->id.qos == "burstable");
  REQUIRE(c.lookup(kPod).kube);
  CHECK(display_name(*c.lookup(kPod).kube) == "shop/web-1");
  // Named: later refreshes do not read again.
  CHECK_FALSE(c.learn({"/", kPod, kCtr}, 2 * kSec));
  CHECK(reads == 1);
  // A runtime container outside Kubernetes needs no read, and lookup names it by id.
  const std::string docker = "/docker/" + kCid;
  CHECK_FALSE(c.learn({kCtr, docker}, 3 * kSec));
  REQUIRE(c.lookup(docker).container);
  CHECK(c.lookup(docker).container->id == kCid);
}

TEST_CASE("NameCache retries a name the logs lacked after kRetryNs, and forgets pods gone", "[k8s][unit]") {
  int reads = 0;
  bool with_container = false;  // the kubelet has not made the container's log link yet
  NameCache c([&]() -> Result<KubeletNames> {
    ++reads;
    return web1(with_container);
  });
  CHECK(c.learn({kPod, kCtr}, 100 * kSec));
  CHECK(reads == 1);
  REQUIRE(c.lookup(kCtr).kube);
  CHECK(c.lookup(kCtr).kube->container.empty());
  CHECK(display_name(*c.lookup(kCtr).kube) == "shop/web-1/container 4f9c1d2e3b4a");
  with_container = true;
  CHECK_FALSE(c.learn({kPod, kCtr}, 100 * kSec + NameCache::kRetryNs - 1));
  CHECK(reads == 1);
  CHECK(c.learn({kPod, kCtr}, 100 * kSec + NameCache::kRetryNs));
  CHECK(reads == 2);
  CHECK(c.lookup(kCtr).kube->container == "app");
  // The pod is gone from the snapshot: its names go too, and come back with a read.
  CHECK_FALSE(c.learn({"/"}, 200 * kSec));
  CHECK(c.lookup(kCtr).kube->pod.empty());
  CHECK(c.learn({kCtr}, 201 * kSec));
  CHECK(reads == 3);
  CHECK(c.lookup(kCtr).kube->pod == "web-1");
}

TEST_CASE("NameCache: a log tree that cannot be read is no names", "[k8s][unit]") {
  NameCache c([]() -> Result<KubeletNames> { return app_error("list kubelet log directory /x: Permission denied"); });
  CHECK(c.learn({kCtr}, 0));
  REQUIRE(c.lookup(kCtr).kube);
  CHECK(c.lookup(kCtr).kube->pod.empty());
  CHECK(c.reads() == 1);
}
