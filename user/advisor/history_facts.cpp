#include "advisor/history_facts.hpp"

#include <algorithm>

namespace ow::advisor {

recommend::WindowFigures figures(const stats::WindowStats& w, int64_t window_ns) {
  recommend::WindowFigures f;
  f.ws_avg_bytes = w.ws_avg_bytes;
  f.ws_p95_bytes = w.ws_p95_bytes;
  f.ws_max_bytes = w.ws_max_bytes;
  f.samples = w.ws_samples;
  f.window_ns = window_ns;
  f.covered_ns = w.last_ts_ns - w.first_ts_ns;
  return f;
}

uint64_t oom_used_at(const sampler::Sample* prev, const sampler::Sample& s) {
  if (!prev || prev->cgroup_id != s.cgroup_id || s.ev_oom_kill <= prev->ev_oom_kill) return 0;
  uint64_t used = std::max(prev->usage_bytes, s.usage_bytes);
  if (s.peak_bytes > prev->peak_bytes) used = std::max(used, s.peak_bytes);
  return used;
}

std::map<std::string, RawFacts> raw_facts(const std::vector<sampler::Sample>& samples) {
  std::map<std::string, RawFacts> out;
  std::map<std::string, const sampler::Sample*> prev;
  for (const auto& s : samples) {
    RawFacts& f = out[s.cgroup];
    f.last_limit = s.limit_bytes;
    auto it = prev.find(s.cgroup);
    if (uint64_t used = oom_used_at(it == prev.end() ? nullptr : it->second, s)) f.oom_used = used;
    prev[s.cgroup] = &s;
  }
  return out;
}

}  // namespace ow::advisor
