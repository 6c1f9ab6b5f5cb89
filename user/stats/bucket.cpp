#include "stats/bucket.hpp"

#include <algorithm>

namespace ow::stats {

int64_t bucket_start(int64_t ts_ns, int64_t width_ns) {
  int64_t q = ts_ns / width_ns;
  if (ts_ns % width_ns < 0) --q;  // C++ division truncates toward zero
  return q * width_ns;
}

std::vector<Bucket> build_buckets(std::span<const sampler::Sample> series, int64_t width_ns) {
  return build_buckets(series, {}, width_ns);
}

std::vector<Bucket> build_buckets(std::span<const sampler::Sample> series, std::span<const uint64_t> counts,
                                  int64_t width_ns) {
  std::vector<Bucket> out;
  const sampler::Sample* prev = nullptr;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    uint64_t n = counts.empty() ? 1 : counts[i];
    if (n == 0) continue;
    int64_t start = bucket_start(s.ts_ns, width_ns);
    if (out.empty() || out.back().start_ns != start) {
      Bucket b;
      b.start_ns = start;
      b.cgroup_id = s.cgroup_id;
      b.min_bytes = s.usage_bytes;
      b.peak_first_bytes = s.peak_bytes;
      b.ws_min_bytes = s.working_set_bytes;
      out.push_back(std::move(b));
    }
    Bucket& b = out.back();
    b.count += n;
    b.min_bytes = std::min(b.min_bytes, s.usage_bytes);
    b.max_bytes = std::max(b.max_bytes, s.usage_bytes);
    b.sum_bytes += s.usage_bytes * n;
    b.peak_last_bytes = s.peak_bytes;
    b.limit_bytes = s.limit_bytes;
    b.sketch.add(s.usage_bytes, n);
    b.ws_min_bytes = std::min(b.ws_min_bytes, s.working_set_bytes);
    b.ws_max_bytes = std::max(b.ws_max_bytes, s.working_set_bytes);
    b.ws_sum_bytes += s.working_set_bytes * n;
    b.ws_sketch.add(s.working_set_bytes, n);
    // A rise across the boundary from the previous bucket is left to the
    // reader (peak_first vs the previous peak_last): the previous bucket may lie
    // outside the window being asked about. Inside a run the watermark is one
    // figure, so only the step from the previous entry can rise.
    if (prev && bucket_start(prev->ts_ns, width_ns) == start)
      b.max_bytes = std::max(b.max_bytes, watermark_reached(prev->cgroup_id, prev->peak_bytes, s.cgroup_id, s.peak_bytes));
    prev = &s;
  }
  return out;
}

}  // namespace ow::stats
