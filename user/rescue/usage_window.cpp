#include "rescue/usage_window.hpp"

#include <algorithm>
#include <vector>

#include "stats/quantile.hpp"

namespace ow::rescue {

void UsageWindow::add(const std::string& path, int64_t ts_ns, uint64_t usage_bytes) {
  series_[path].emplace_back(ts_ns, usage_bytes);
}

void UsageWindow::prune(int64_t now_ns) {
  for (auto it = series_.begin(); it != series_.end();) {
    auto& d = it->second;
    while (!d.empty() && d.front().first < now_ns - span_ns_) d.pop_front();
    if (d.empty()) memo_.erase(it->first);
    it = d.empty() ? series_.erase(it) : std::next(it);
  }
}

policy::WindowFigures UsageWindow::figures(const std::string& path, int64_t now_ns) const {
  policy::WindowFigures f;
  auto it = series_.find(path);
  if (it == series_.end() || it->second.empty()) return f;
  if (auto m = memo_.find(path); m != memo_.end() && now_ns >= m->second.first &&
                                 now_ns - m->second.first < kFiguresTtlNs) {
    f = m->second.second;
    f.span_ns = now_ns - it->second.front().first;
    // The latest sample joins max at once: a fresh peak is never forgotten.
    f.max_bytes = std::max(f.max_bytes, it->second.back().second);
    return f;
  }
  std::vector<uint64_t> v;
  v.reserve(it->second.size());
  for (const auto& [ts, u] : it->second) v.push_back(u);
  std::sort(v.begin(), v.end());
  f.has_stats = true;
  f.min_bytes = v.front();
  f.max_bytes = v.back();
  f.median_bytes = stats::quantile_sorted(v, 50);
  f.p95_bytes = stats::quantile_sorted(v, 95);
  f.span_ns = now_ns - it->second.front().first;
  memo_[path] = {now_ns, f};
  return f;
}

uint64_t UsageWindow::growth_rate(const std::string& path, int64_t now_ns, uint64_t usage_now,
                                  int64_t lookback_ns) const {
  auto it = series_.find(path);
  if (it == series_.end()) return 0;
  for (const auto& [ts, u] : it->second) {
    if (ts < now_ns - lookback_ns) continue;
    // At least a second: one step of growth just after a sample is not a rate.
    int64_t dt = std::max<int64_t>(now_ns - ts, 1'000'000'000);
    if (usage_now <= u) return 0;
    return static_cast<uint64_t>(static_cast<double>(usage_now - u) * 1e9 / static_cast<double>(dt));
  }
  return 0;
}

}  // namespace ow::rescue
