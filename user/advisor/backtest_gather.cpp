#include "advisor/backtest_gather.hpp"

#include <algorithm>
#include <map>

#include "advisor/replay_gather.hpp"
#include "store/samplefile.hpp"
#include "util/units.hpp"

namespace ow::advisor {

std::vector<BacktestSeries> series_from_samples(std::vector<sampler::Sample> samples, const std::string& name,
                                                const std::string& source) {
  std::stable_sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.ts_ns < b.ts_ns; });
  std::map<std::string, std::vector<const sampler::Sample*>> by_path;
  for (const auto& s : samples) by_path[s.cgroup].push_back(&s);
  std::vector<BacktestSeries> out;
  for (const auto& [path, ss] : by_path) {
    BacktestSeries b;
    b.source = source;
    b.series.name = by_path.size() == 1 ? name : name + ":" + path;
    const sampler::Sample* prev = nullptr;
    for (const auto* s : ss) {
      b.series.points.push_back({s->ts_ns, s->working_set_bytes});
      // A new cgroup (another id) restarts its counter: no rise to infer.
      if (prev && prev->cgroup_id == s->cgroup_id && s->ev_oom_kill > prev->ev_oom_kill) {
        uint64_t used = std::max(prev->usage_bytes, s->usage_bytes);
        if (s->limit_bytes != kUnlimited) used = std::max(used, s->limit_bytes);
        for (uint64_t k = prev->ev_oom_kill; k < s->ev_oom_kill; ++k) b.series.kills.push_back({s->ts_ns, used});
      }
      prev = s;
    }
    if (ss.back()->limit_bytes != kUnlimited) b.series.limit_bytes = ss.back()->limit_bytes;
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<BacktestSeries>> read_trace(const std::string& path) {
  auto samples = store::read_sample_file(path);
  if (!samples) return samples.error();
  if (samples->empty()) return usage_error("no samples in the trace", path);
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (auto dot = name.find('.'); dot != 0) name = name.substr(0, dot);  // ".csv" keeps its whole name
  return series_from_samples(std::move(*samples), name, path);
}

Result<std::vector<BacktestSeries>> gather_backtest_series(const RecommendQuery& q, const RecommendSources& src,
                                                           const std::string& db_path) {
  auto reports = gather_recommendations(q, src);
  if (!reports) return reports.error();
  auto read = read_points(q, src);
  if (!read) return read.error();
  std::vector<BacktestSeries> out;
  for (const auto& r : *reports) {
    auto it = read->points.find(r.cgroup);
    if (it == read->points.end()) continue;
    BacktestSeries b;
    b.source = "db " + db_path + " " + r.cgroup;
    b.series.name = r.name;
    for (const auto& p : it->second) {
      if (!p.kill) b.series.points.push_back({p.ts_ns, p.ws_bytes});
      // A kill point's ws is what the demand reached (the limit in force then);
      // a sample's counted kill, the usage at it.
      if (p.kill || p.oom_used_bytes) b.series.kills.push_back({p.ts_ns, p.kill ? p.ws_bytes : p.oom_used_bytes});
    }
    if (b.series.points.empty()) continue;
    b.series.request_bytes = r.current.request_bytes;
    if (r.current.limit_bytes && *r.current.limit_bytes != kUnlimited) b.series.limit_bytes = r.current.limit_bytes;
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace ow::advisor
