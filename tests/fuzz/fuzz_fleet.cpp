// libFuzzer target: the fleet path's untrusted inputs: Prometheus's
// answers, the overrides file, `kubectl get ksvc -o json` text and pod
// names. The whole input goes to every parser; invariants:
//   answers: every value parsed is finite and not negative, points of a
//            series in the answer's order;
//   overrides: a request never above its limit; a percentile in [0.5, 1]
//              and margins in [1, 10] (per-mille);
//   pod names: the workload name is never empty and is a prefix of the pod's
//              (or the owner/pod itself);
//   no crash and no exception escapes (a wrong type is an error).
#include <cmath>
#include <cstdint>
#include <string>

#include "fleet/knative_services.hpp"
#include "fleet/overrides.hpp"
#include "fleet/prom_api.hpp"
#include "fleet/workload.hpp"
#include "fuzz_check.hpp"

using namespace ow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  for (int status : {200, 400}) {
    if (auto a = fleet::parse_answer(status, in, "q"))
      for (const auto& s : *a)
        for (const auto& p : s.points) CHECK(std::isfinite(p.value) && p.value >= 0);
  }
  if (auto o = fleet::parse_overrides(in))
    for (const auto& [id, w] : *o) {
      for (const auto& [c, v] : w.containers) CHECK(!v.request_bytes || !v.limit_bytes || *v.request_bytes <= *v.limit_bytes);
      CHECK(!w.percentile_pm || (*w.percentile_pm >= 500 && *w.percentile_pm <= 1000));
      for (const auto& m : {w.request_margin_pm, w.limit_margin_pm}) CHECK(!m || (*m >= 1000 && *m <= 10000));
    }
  (void)fleet::parse_knative_services(in);
  auto w = fleet::workload_of_pod(in);
  CHECK(in.empty() || !w.name.empty());
  CHECK(in.compare(0, w.name.size(), w.name) == 0);
  (void)fleet::knative_service_of(in);
  return 0;
}
