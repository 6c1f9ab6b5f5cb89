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

uint64_t oom_used_at(const PrevSample* prev, const sampler::Sample& s) {
  if (!prev || prev->cgroup_id != s.cgroup_id || s.ev_oom_kill <= prev->ev_oom_kill) return 0;
  uint64_t used = std::max(prev->usage_bytes, s.usage_bytes);
  if (s.peak_bytes > prev->peak_bytes) used = std::max(used, s.peak_bytes);
  return used;
}

void RawFactsFold::add(const sampler::Sample& s) {
  if (!last_path_ || *last_path_ != s.cgroup) {
    auto [f, fresh] = facts_.try_emplace(s.cgroup);
    last_path_ = &f->first;  // map nodes stay put
    last_facts_ = &f->second;
    last_prev_ = nullptr;
    if (!fresh) last_prev_ = &prev_.find(s.cgroup)->second;
  }
  last_facts_->last_limit = s.limit_bytes;
  if (uint64_t used = oom_used_at(last_prev_, s)) last_facts_->oom_used = used;
  if (last_prev_)
    *last_prev_ = PrevSample::of(s);
  else
    last_prev_ = &prev_.emplace(s.cgroup, PrevSample::of(s)).first->second;
}

std::map<std::string, RawFacts> raw_facts(const std::vector<sampler::Sample>& samples) {
  RawFactsFold fold;
  for (const auto& s : samples) fold.add(s);
  return fold.facts();
}

}  // namespace ow::advisor
