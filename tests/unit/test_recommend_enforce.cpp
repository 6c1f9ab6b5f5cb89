// Enforcement steps worked by hand: bounded delta both ways, the p95 and
// usage floors, overrides, cooldown, incidents, Kubernetes-owned paths.
#include <catch2/catch.hpp>

#include "k8s/identity.hpp"
#include "recommend/enforce.hpp"
#include "util/units.hpp"

using namespace ow::recommend;

namespace {
EnforceInput base(uint64_t cur_mi, uint64_t rec_mi) {
  EnforceInput in;
  in.current_limit_bytes = cur_mi * kMi;
  in.recommended_limit_bytes = rec_mi * kMi;
  in.ws_p95_bytes = 40 * kMi;
  in.usage_bytes = 50 * kMi;
  in.now_ns = 100 * 60 * kMinuteNs;
  return in;
}
}  // namespace

TEST_CASE("enforce: bounded delta, floors, overrides", "[recommend]") {
  struct Row {
    const char* what;
    EnforceInput in;
    bool change;
    uint64_t new_mi;
  };
  auto with = [](EnforceInput in, auto f) {
    f(in);
    return in;
  };
  const Row rows[] = {
      {"within 30 %: the recommendation", base(400, 336), true, 336},
      {"down at most 30 %", base(512, 128), true, 359},  // 512 × 0.7 = 358.4 -> 359
      {"up at most 30 %", base(100, 400), true, 130},
      {"never below ws p95", with(base(200, 150), [](auto& i) { i.ws_p95_bytes = 180 * kMi; }), true, 180},
      {"never below usage + 32Mi", with(base(200, 150), [](auto& i) { i.usage_bytes = 170 * kMi; }), true, 202},
      {"the floor override wins", with(base(400, 336), [](auto& i) { i.floor_bytes = 384 * kMi; }), true, 384},
      {"the ceiling override wins", with(base(100, 400), [](auto& i) { i.ceiling_bytes = 110 * kMi; }), true, 110},
      {"already there", base(336, 336), false, 0},
  };
  for (const auto& r : rows) {
    SECTION(r.what) {
      auto s = plan_enforce(r.in);
      INFO(s.reason);
      CHECK(s.change == r.change);
      if (r.change) CHECK(s.new_limit_bytes == r.new_mi * kMi);
    }
  }
}

TEST_CASE("enforce: what is never written", "[recommend]") {
  auto in = base(512, 128);
  in.kubernetes_owned = true;
  CHECK(plan_enforce(in).reason.find("Kubernetes-owned") == 0);
  in = base(512, 128);
  in.current_limit_bytes = ow::kUnlimited;
  CHECK_FALSE(plan_enforce(in).change);
  in = base(512, 128);
  in.in_incident = true;
  CHECK_FALSE(plan_enforce(in).change);
  in = base(512, 128);
  in.last_enforced_ns = in.now_ns - 10 * kMinuteNs;
  auto s = plan_enforce(in);
  CHECK_FALSE(s.change);
  CHECK(s.reason == "cooldown: changed 10m ago, next after 30m");
  in.last_enforced_ns = in.now_ns - 30 * kMinuteNs;
  CHECK(plan_enforce(in).change);
}

TEST_CASE("Kubernetes-owned paths", "[k8s]") {
  using ow::k8s::kubernetes_owned;
  CHECK(kubernetes_owned("/kubepods"));
  CHECK(kubernetes_owned("/kubepods/burstable/pod1/c"));
  CHECK(kubernetes_owned("/kubepods.slice/kubepods-besteffort.slice"));
  CHECK(kubernetes_owned("/kubelet.slice/kubelet-kubepods.slice"));
  CHECK(kubernetes_owned("/a/kubepods/x"));
  CHECK_FALSE(kubernetes_owned("/system.slice/kubelet.service"));
  CHECK_FALSE(kubernetes_owned("/mykubepods"));
  CHECK_FALSE(kubernetes_owned("/"));
}
