#include "recommend/replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "recommend/quantity.hpp"
#include "stats/quantile.hpp"

namespace ow::recommend {
namespace {

constexpr int64_t kDayNs = 86400LL * 1'000'000'000;

int64_t day_of(int64_t ts) { return ts / kDayNs - (ts % kDayNs < 0 ? 1 : 0); }

}  // namespace

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

VpaFigure vpa_rule(std::span<const Point> points, const VpaRules& v) {
  VpaFigure f;
  std::vector<uint64_t> peaks;
  uint64_t used = 0;
  bool oom = false;
  int64_t day = 0;
  for (const auto& p : points) {
    if (p.oom_used_bytes) {
      oom = true;
      used = std::max(used, p.oom_used_bytes);
    }
    if (p.kill) continue;  // an instant's usage, not a working-set sample
    int64_t d = day_of(p.ts_ns);
    if (peaks.empty() || d != day) {
      peaks.push_back(0);
      day = d;
    }
    peaks.back() = std::max(peaks.back(), p.ws_bytes);
  }
  f.days = peaks.size();
  if (peaks.empty()) return f;
  std::sort(peaks.begin(), peaks.end());
  f.p90_daily_peak_bytes = stats::quantile_sorted(peaks, v.peak_pct);
  uint64_t base = scale_up(f.p90_daily_peak_bytes, v.margin_pm);
  f.target_bytes = base;
  f.rationale = fmt::format("p{} of {} daily peak(s) {} × {} = {}", v.peak_pct, f.days, mib_text(f.p90_daily_peak_bytes),
                            factor_text(v.margin_pm), mib_text(base));
  if (oom) {
    uint64_t bump = std::max(used + v.oom_add_bytes, scale_up(used, v.oom_pm));
    if (bump > f.target_bytes) {
      f.target_bytes = bump;
      f.oom_bumped = true;
      f.rationale += fmt::format("; OOM bump max(used + {}, used × {}) on used {} = {}", quantity(v.oom_add_bytes),
                                 factor_text(v.oom_pm), mib_text(used), mib_text(bump));
    }
  }
  if (f.target_bytes < v.floor_bytes) {
    f.target_bytes = v.floor_bytes;
    f.rationale += fmt::format("; raised to the {} floor", quantity(v.floor_bytes));
  }
  return f;
}

}  // namespace ow::recommend
