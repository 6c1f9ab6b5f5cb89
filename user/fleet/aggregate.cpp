#include "fleet/aggregate.hpp"

#include <algorithm>
#include <cmath>

#include "fleet/owners.hpp"

namespace ow::fleet {

std::string key_text(const Key& k) { return k.ns + "/" + k.workload + "/" + k.container; }

std::optional<SeriesKey> series_key(const Labels& l, const LabelNames& n, bool need_container, const OwnerTables* owners) {
  auto get = [&](const std::string& name) {
    auto it = l.find(name);
    return it == l.end() ? std::string() : it->second;
  };
  std::string ns = get(n.ns), pod = get(n.pod), ctr = need_container ? get(n.container) : "",
              owner = n.owner.empty() ? "" : get(n.owner);
  if (ns.empty() || pod.empty()) return std::nullopt;
  if (need_container && (ctr.empty() || ctr == "POD")) return std::nullopt;
  Owned o = resolve_owner(owners, ns, pod, owner);
  return SeriesKey{Key{ns, o.workload.name, ctr}, o.workload.kind, o.from, o.via};
}

std::map<Key, Group> group_series(const std::vector<Series>& s, const LabelNames& n, bool need_container,
                                  const OwnerTables* owners) {
  std::map<Key, Group> out;
  for (const auto& x : s) {
    auto k = series_key(x.labels, n, need_container, owners);
    if (!k) continue;
    Group& g = out[k->key];
    // kube-state-metrics' word wins when only some pods of the workload have it.
    if (g.owner_from.empty() || k->owner_from == kFromPodOwner) {
      g.kind = k->kind;
      g.owner_from = k->owner_from;
      g.owner_via = k->owner_via;
    }
    const std::string& pod = x.labels.at(n.pod);
    g.pods.insert(pod);
    uint64_t& pm = g.pod_max[pod];
    for (const auto& p : x.points) pm = std::max(pm, bytes_of(p.value));
    ++g.series;
    g.points.insert(g.points.end(), x.points.begin(), x.points.end());
  }
  for (auto& [k, g] : out)
    std::stable_sort(g.points.begin(), g.points.end(), [](const Point& a, const Point& b) { return a.ts_ms < b.ts_ms; });
  return out;
}

uint64_t bytes_of(double v) {
  if (!(v > 0)) return 0;
  if (v >= 18446744073709551615.0) return UINT64_MAX;
  return static_cast<uint64_t>(std::round(v));
}

recommend::WindowFigures window_figures(const std::vector<Point>& pts, int64_t start_ms, int64_t end_ms,
                                        uint32_t percentile_pm) {
  recommend::WindowFigures f;
  f.window_ns = (end_ms - start_ms) * 1'000'000;
  std::vector<uint64_t> v;
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const auto& p : pts) {
    if (p.ts_ms <= start_ms || p.ts_ms > end_ms) continue;
    v.push_back(bytes_of(p.value));
    first = std::min(first, p.ts_ms);
    last = std::max(last, p.ts_ms);
  }
  if (v.empty()) return f;
  unsigned __int128 sum = 0;
  for (uint64_t x : v) sum += x;
  f.samples = v.size();
  f.ws_avg_bytes = static_cast<uint64_t>(sum / v.size());
  std::sort(v.begin(), v.end());
  size_t rank = (static_cast<size_t>(percentile_pm) * v.size() + 999) / 1000;
  f.ws_p95_bytes = v[std::clamp<size_t>(rank, 1, v.size()) - 1];
  f.ws_max_bytes = v.back();
  f.covered_ns = (last - first) * 1'000'000;
  return f;
}

std::optional<DominantPod> dominant_pod(const std::map<std::string, uint64_t>& pod_max) {
  if (pod_max.size() < 2) return std::nullopt;
  const std::pair<const std::string, uint64_t>*top = nullptr, *next = nullptr;
  for (const auto& e : pod_max) {
    if (!top || e.second > top->second) {
      next = top;
      top = &e;
    } else if (!next || e.second > next->second) {
      next = &e;
    }
  }
  // Twice a zero maximum is still zero: a pod with anything beats idle ones.
  if (top->second == 0 || static_cast<double>(top->second) < kDominantRatio * static_cast<double>(next->second))
    return std::nullopt;
  DominantPod d{top->first, next->first, top->second, next->second, 0};
  d.ratio = next->second ? static_cast<double>(top->second) / static_cast<double>(next->second) : 0;
  return d;
}

Spread spread(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.samples = v.size();
  s.p95 = v[(95 * v.size() + 99) / 100 - 1];
  s.max = v.back();
  return s;
}

std::map<Key, double> max_per_key(const std::vector<Series>& s, const LabelNames& n) {
  std::map<Key, double> out;
  for (const auto& x : s) {
    auto k = series_key(x.labels, n);
    if (!k || x.points.empty()) continue;
    double v = x.points.back().value;
    auto [it, fresh] = out.emplace(k->key, v);
    if (!fresh) it->second = std::max(it->second, v);
  }
  return out;
}

}  // namespace ow::fleet
