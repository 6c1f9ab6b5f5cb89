#include "sampler/source.hpp"

namespace ow::sampler {

Result<std::vector<Sample>> FileSource::read() {
  std::vector<Sample> out;
  for (const auto& [id, rel] : h_.walk()) {
    if (root_ != "/" && rel != root_ && rel.rfind(root_ + "/", 0) != 0) continue;
    auto m = h_.read(rel);
    if (!m) continue;  // removed while we walked, or the root without memory files
    Sample s;
    s.cgroup_id = id;
    s.cgroup = rel;
    s.usage_bytes = m->usage_bytes;
    s.limit_bytes = m->limit_bytes;
    s.peak_bytes = m->peak_bytes;
    s.high_bytes = m->high_bytes;
    s.failcnt = m->events.max;
    s.ev_low = m->events.low, s.ev_high = m->events.high, s.ev_max = m->events.max;
    s.ev_oom = m->events.oom, s.ev_oom_kill = m->events.oom_kill;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ow::sampler
