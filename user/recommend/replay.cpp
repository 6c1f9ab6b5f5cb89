#include "recommend/replay.hpp"

#include <vector>

namespace ow::recommend {

ReplayResult replay(std::span<const Point> points, uint64_t request_bytes, uint64_t limit_bytes) {
  ReplayResult r;
  unsigned __int128 under = 0;
  bool in_episode = false;
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    if (p.kill) {
      // The demand reached at least the limit in force then: a limit at or
      // below it kills too. A run of samples above the limit right after is
      // the same episode.
      if (p.ws_bytes >= limit_bytes) {
        ++r.oom_episodes;
        in_episode = true;
      }
      continue;
    }
    ++r.samples;
    bool above = p.ws_bytes > limit_bytes;
    if (above) {
      ++r.samples_above_limit;
      if (!in_episode) ++r.oom_episodes;
    }
    in_episode = above;
    if (p.ws_bytes > request_bytes) {
      size_t j = i + 1;  // the next sample; kills are instants, not samples
      while (j < points.size() && points[j].kill) ++j;
      if (j < points.size()) r.time_above_request_ns += points[j].ts_ns - p.ts_ns;
    }
    if (request_bytes > p.ws_bytes) under += request_bytes - p.ws_bytes;
  }
  if (r.samples) r.avg_over_request_bytes = static_cast<uint64_t>((under + r.samples / 2) / r.samples);
  return r;
}

VpaFigure vpa_rule(std::span<const Point> points, std::optional<uint64_t> request, std::optional<uint64_t> limit,
                   int64_t now_ns) {
  std::vector<VpaSample> samples;
  std::vector<VpaOom> ooms;
  samples.reserve(points.size());
  for (const auto& p : points) {
    if (!p.kill) samples.push_back({p.ts_ns, p.ws_bytes});
    if (p.kill || p.oom_used_bytes) ooms.push_back({p.ts_ns, p.oom_used_bytes});
  }
  VpaContainer c{"", "", samples, ooms, request, limit};
  VpaFigure f;
  auto r = vpa_model(std::span(&c, 1), now_ns);
  if (!r.ok() || r->empty()) {  // the default options always pass; no sample up to now gives no figure
    f.rationale = r.ok() ? "no sample up to the end of the window" : r.error().what;
    return f;
  }
  f.model = std::move(r->front());
  f.target_bytes = f.model.target.bytes;
  f.limit_bytes = f.model.limit_bytes;
  f.rationale = vpa_rationale(f.model);
  return f;
}

}  // namespace ow::recommend
