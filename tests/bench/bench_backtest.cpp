// The cost of `recommend --backtest` per workload: a week of 1-minute points
// (what the history database holds beyond the raw hour) stepped at 1 h,
// beside one decision of both policies on the same week (what one step
// costs at the end), printing the ratio. Each step re-runs the VPA model on
// everything before it, so the ratio is at most the step count. Pure
// computation, no root; best of `rounds` (argv[1], default 5). Never a
// pass/fail.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "bench_util.hpp"
#include "recommend/backtest.hpp"
#include "recommend/rules.hpp"
#include "recommend/vpa_model.hpp"

using namespace ow::recommend;

namespace {
constexpr int64_t kMinNs = 60LL * 1'000'000'000;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  BtSeries s;
  s.name = "week";
  s.limit_bytes = 1ull << 30;
  // A diurnal wave between 200 and 500Mi with a little noise.
  for (int64_t i = 0; i < 7 * 1440; ++i)
    s.points.push_back({i * kMinNs, (200 + (i % 1440 < 720 ? i % 720 : 720 - i % 720) * 300 / 720 + (i * 37) % 16) * kMi});
  std::vector<VpaSample> vs;
  for (const auto& p : s.points) vs.push_back({p.ts_ns, p.ws_bytes});
  double best_bt = 1e9, best_one = 1e9;
  size_t steps = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto res = backtest(s);
    best_bt = std::min(best_bt, seconds_since(t0));
    if (!res.ok()) {
      std::fprintf(stderr, "backtest: %s\n", res.error().message().c_str());
      return 1;
    }
    steps = res->steps.size();
    // One decision: the VPA model on the whole week and the rules on its last 24 h.
    t0 = std::chrono::steady_clock::now();
    VpaContainer c{"pod", "c", vs, {}, s.limit_bytes, s.limit_bytes};
    auto v = vpa_model(std::span(&c, 1), s.points.back().ts_ns + 1);
    std::vector<uint64_t> day;
    for (size_t i = s.points.size() - 1440; i < s.points.size(); ++i) day.push_back(s.points[i].ws_bytes);
    std::sort(day.begin(), day.end());
    Input in;
    uint64_t sum = 0;
    for (auto x : day) sum += x;
    in.long_window = {sum / day.size(), day[day.size() * 95 / 100], day.back(), day.size(), 1440 * kMinNs, 1439 * kMinNs};
    auto rec = recommend(in);
    best_one = std::min(best_one, seconds_since(t0));
    if (!v.ok() || rec.limit_bytes == 0) return 1;
  }
  std::printf("one workload-week, 10,080 one-minute points, best of %d:\n", rounds);
  std::printf("  backtest, %zu steps of 1h:        %8.2f ms\n", steps, best_bt * 1e3);
  std::printf("  one decision (vpa + rules):      %8.3f ms\n", best_one * 1e3);
  std::printf("  ratio backtest / one decision:   %8.1f (steps: %zu)\n", best_bt / best_one, steps);
  std::printf("  1,000 workloads:                 %8.1f s\n", best_bt * 1000);
  ow::bench::row("recommend --backtest, one workload-week (1-min points, 1 h steps)",
                 std::to_string(static_cast<int>(best_bt * 1e3 + 0.5)) + " ms", "< 100 ms (1,000 workloads < 2 min)",
                 best_bt < 0.1);
  return 0;
}
