// Downsampled history: a Bucket summarises one cgroup's samples over
// [start_ns, start_ns + width). The history store keeps buckets once the raw
// samples age out; window statistics merge them (see window.hpp).
// What a bucket keeps and why:
//   count, min, max, sum -> exact sample count, min, max and average later;
//   sketch               -> median / p95 within 1 % (sketch.hpp);
//   peak_first/last      -> a watermark rise *between* buckets is still seen;
//   ws_*                 -> the same for the working set (no watermark: the
//                           kernel keeps none for it).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "sampler/sample.hpp"
#include "stats/sketch.hpp"
#include "util/units.hpp"

namespace ow::stats {

struct Bucket {
  int64_t start_ns = 0;
  uint64_t cgroup_id = 0;
  uint64_t count = 0;
  uint64_t min_bytes = 0;
  uint64_t max_bytes = 0;         // highest sample, raised by watermark rises inside the bucket
  uint64_t sum_bytes = 0;         // exact; a minute of samples is far below 2^64 bytes
  uint64_t peak_first_bytes = 0;  // watermark of the first sample (0: unknown)
  uint64_t peak_last_bytes = 0;   // watermark of the last sample
  uint64_t limit_bytes = kUnlimited;  // of the last sample
  LogSketch sketch;
  uint64_t ws_min_bytes = 0, ws_max_bytes = 0, ws_sum_bytes = 0;
  LogSketch ws_sketch;
  bool has_ws = true;  // false: some sample in it had no working set recorded
};

// A rise of the kernel watermark between two consecutive samples of one cgroup
// means usage reached the new watermark sometime in between, even if no sample
// saw it. Returns that watermark, or 0 when it says nothing: unknown (0), not
// risen, or a different cgroup_id (the path was recreated: a fresh watermark).
inline uint64_t watermark_reached(uint64_t prev_id, uint64_t prev_peak, uint64_t id, uint64_t peak) {
  return (prev_id == id && prev_peak != 0 && peak > prev_peak) ? peak : 0;
}

// Floor to a multiple of width_ns, also for negative times.
int64_t bucket_start(int64_t ts_ns, int64_t width_ns);

// series: samples of ONE cgroup (same path and cgroup_id) in ascending ts.
// width_ns > 0. Buckets come out in ascending start_ns; empty ones are omitted.
std::vector<Bucket> build_buckets(std::span<const sampler::Sample> series, int64_t width_ns);
// The same, where series[i] stands for counts[i] samples with its figures (a
// run of the raw tier, all in series[i]'s bucket); empty counts: 1 each.
std::vector<Bucket> build_buckets(std::span<const sampler::Sample> series, std::span<const uint64_t> counts,
                                  int64_t width_ns);

}  // namespace ow::stats
