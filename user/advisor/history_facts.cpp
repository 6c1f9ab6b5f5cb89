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

uint64_t RawFactsFold::add(const sampler::Sample& s) {
  bool first = false;  // the cgroup's first sample: no previous one to compare with
  if (!last_path_ || *last_path_ != s.cgroup) {
    auto [it, fresh] = by_path_.try_emplace(s.cgroup);
    last_path_ = &it->first;  // map nodes stay put
    last_ = &it->second;
    first = fresh;
  }
  uint64_t used = 0;
  if (const PrevSample& p = last_->prev; !first && p.cgroup_id == s.cgroup_id && s.ev_oom_kill > p.ev_oom_kill) {
    used = std::max(p.usage_bytes, s.usage_bytes);
    if (s.peak_bytes > p.peak_bytes) used = std::max(used, s.peak_bytes);  // the watermark rose in between
  }
  last_->facts.last_limit = s.limit_bytes;
  if (used) {
    last_->facts.oom_used = used;
    last_->facts.oom_kills += s.ev_oom_kill - last_->prev.ev_oom_kill;
  }
  last_->prev = {s.cgroup_id, s.usage_bytes, s.peak_bytes, s.ev_oom_kill};
  return used;
}

std::map<std::string, RawFacts> RawFactsFold::facts() const {
  std::map<std::string, RawFacts> out;
  for (const auto& [path, e] : by_path_) out.emplace_hint(out.end(), path, e.facts);
  return out;
}

std::map<std::string, RawFacts> raw_facts(const std::vector<sampler::Sample>& samples) {
  RawFactsFold fold;
  for (const auto& s : samples) fold.add(s);
  return fold.facts();
}

}  // namespace ow::advisor
