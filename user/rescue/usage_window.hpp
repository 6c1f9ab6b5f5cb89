// Recent usage of the cgroups the daemon manages, kept in memory so a
// decision never waits for the history database: min, median, p95 and max
// over the last `span_ns`, exact (nearest rank over the raw samples; at 1 s
// and 10 minutes that is 600 numbers per cgroup). Pure: the caller supplies
// timestamps.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "policy/realloc.hpp"

namespace ow::rescue {

class UsageWindow {
 public:
  explicit UsageWindow(int64_t span_ns) : span_ns_(span_ns) {}
  // Records usage at ts_ns (ascending per path).
  void add(const std::string& path, int64_t ts_ns, uint64_t usage_bytes);
  // Drops samples older than now - span and cgroups with none left.
  void prune(int64_t now_ns);
  void forget(const std::string& path) {
    series_.erase(path);
    memo_.erase(path);
  }
  // has_stats == false when the cgroup has no sample in the window;
  // span_ns = now_ns - its oldest sample.
  // Computed at most every kFiguresTtlNs per path (a sort of the window's
  // samples; a plan reads every sibling's): a median up to 10 s old over a
  // 10-minute window, while the decision uses fresh usage for the floor.
  policy::WindowFigures figures(const std::string& path, int64_t now_ns) const;
  static constexpr int64_t kFiguresTtlNs = 10'000'000'000;
  // Growth in bytes per second from the oldest sample within lookback_ns of
  // now to usage_now (read now); 0 when shrinking or with no such sample.
  uint64_t growth_rate(const std::string& path, int64_t now_ns, uint64_t usage_now, int64_t lookback_ns) const;
  size_t size() const { return series_.size(); }

 private:
  int64_t span_ns_;
  std::map<std::string, std::deque<std::pair<int64_t, uint64_t>>> series_;
  mutable std::map<std::string, std::pair<int64_t, policy::WindowFigures>> memo_;  // path -> (computed at, figures)
};

}  // namespace ow::rescue
