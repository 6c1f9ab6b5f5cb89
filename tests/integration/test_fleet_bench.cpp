// Not a pass/fail on time (hidden: run with "[fleetbench]"): how long one
// `recommend --prometheus` takes over 24 h of 100 containers (50
// Deployments of 2 pods, 30 s samples), for docs/fleet.md.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "fleet_tsdb.hpp"

using nlohmann::json;
using namespace fleettest;

TEST_CASE("fleet: time of a 24 h query over 100 containers", "[.fleetbench][hosttools]") {
  owtest::Prometheus prom;
  int64_t end = (::time(nullptr) / 60) * 60 - 120;
  constexpr int kDay = 24 * 3600 / 30;
  std::vector<owtest::OmFamily> f(4);
  f[0].name = "container_memory_working_set_bytes";
  f[1].name = "container_memory_rss";
  f[2].name = "kube_pod_container_resource_requests";
  f[3].name = "kube_pod_container_resource_limits";
  for (int d = 0; d < 50; ++d)
    for (int p = 0; p < 2; ++p) {
      std::string l = "namespace=\"ns" + std::to_string(d % 5) + "\",pod=\"app" + std::to_string(d) + "-7d4b9c8f6-" +
                      (p ? "bcdfg" : "hjklm") + "\",container=\"main\"";
      owtest::OmSeries ws{l, {}}, rss{l, {}}, rq{l + ",resource=\"memory\"", {}}, lm{l + ",resource=\"memory\"", {}};
      for (int k = kDay - 1; k >= 0; --k) {
        double v = static_cast<double>((100 + d) * kMi + owtest::mix(d * 7919 + p * 104729 + k) % (50 * kMi));
        ws.points.push_back({end - 15 - 30LL * k, v});
        rss.points.push_back({end - 15 - 30LL * k, v * 0.9});
        if (k % 10 == 0) {
          rq.points.push_back({end - 15 - 30LL * k, 128.0 * kMi});
          lm.points.push_back({end - 15 - 30LL * k, 512.0 * kMi});
        }
      }
      f[0].series.push_back(ws);
      f[1].series.push_back(rss);
      f[2].series.push_back(rq);
      f[3].series.push_back(lm);
    }
  std::string om = prom.dir.path + "/series.om";
  owtest::write_openmetrics(om, f);
  auto t0 = std::chrono::steady_clock::now();
  auto blocks = owtest::create_blocks(om, prom.tsdb());
  REQUIRE(blocks.exit_code == 0);
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(prom.start_tsdb());
  for (const char* step : {"30s", "1m", "5m"}) {
    auto s = std::chrono::steady_clock::now();
    auto r = owtest::run({owtest::oomwatch_bin(), "recommend", "--prometheus", prom.base(), "--window", "24h", "--end",
                          std::to_string(end), "--step", step, "--format", "json"},
                         300);
    auto e = std::chrono::steady_clock::now();
    REQUIRE(r.exit_code == 0);
    auto doc = json::parse(r.out);
    CHECK(doc["containers"].size() == 50);
    std::printf("fleetbench: 24h, 100 containers (50 workloads), step %s: %.2f s, %d range queries\n", step,
                std::chrono::duration<double>(e - s).count(), doc["source"]["range_queries"].get<int>());
  }
  std::printf("fleetbench: promtool create-blocks-from openmetrics: %.1f s\n", std::chrono::duration<double>(t1 - t0).count());
}

