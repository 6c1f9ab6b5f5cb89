// A model of the Vertical Pod Autoscaler recommender's memory recommendation,
// ported from kubernetes/autoscaler vertical-pod-autoscaler/pkg/. Pure: samples
// in, figures out; no I/O, no clock ("now" is an input).
//
// What it does, in the recommender's order:
//   peaks    one memory peak per container per aggregation interval (24 h),
//            the intervals anchored at the container's first sample; a higher
//            sample in the same interval replaces the peak (subtract the old,
//            add the new). A container state per (pod, container); the peaks of
//            every pod's container of one name go into one aggregate
//            (recommender/model/container.go addMemorySample,
//            model/aggregate_container_state.go AggregateStateByContainerName).
//   weights  a decaying histogram, half-life 24 h: each peak weighs
//            2^((interval end - reference) / half-life), so the percentiles
//            lean to the recent days (recommender/util/decaying_histogram.go).
//   buckets  exponential: the first 1e7 bytes wide, each 5 % wider than the
//            last, up to 1e12 bytes (model/aggregations_config.go
//            memoryHistogramOptions, util/histogram_options.go); a percentile
//            is the END of the bucket where the cumulative weight first reaches
//            p × total (util/histogram.go Percentile).
//   figures  target p90, lower bound p50, upper bound p95, each + 15 % safety
//            margin; the upper bound × (1 + 1/confidence), the lower bound
//            × (1 + 0.001/confidence)^-2, confidence = min(history span in
//            days, samples / 1440); none below 250 MiB per pod split over its
//            containers (logic/recommender.go CreatePodResourceRecommender,
//            GetRecommendedPodResources; logic/estimator.go getConfidence;
//            config/config.go DefaultRecommenderConfig).
//   OOM      an OOM kill adds a sample of max(request, the interval's usage
//            peak) × 1.2, at least + 100 MiB; one older than the last memory
//            sample − 24 h is dropped (model/container.go RecordOOM; never
//            here, where kills are taken in time order with the samples,
//            as the feeder records them after each fetch). The usage
//            at the kill is not an input of it: VPA's OOM observer passes the
//            container's request (input/oom/observer.go OnUpdate).
//   limit    the current limit/request ratio is kept: limit × target / request,
//            rounded down; the target when the request is unset or equal to the
//            limit; none without a limit (utils/vpa/limit_and_request_scaling.go
//            getProportionalResourceLimit).
// Samples are counted for the confidence as the recommender's feeder would
// take them: one per container per metrics interval (1 min). Amounts are the
// recommender's ResourceAmount (int64 bytes, float figures truncated, at most
// 1e14) and saturate instead of wrapping.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace ow::recommend {

struct VpaSample {
  int64_t ts_ns = 0;
  uint64_t bytes = 0;  // the working set (cAdvisor's container_memory_working_set_bytes)
};

struct VpaOom {
  int64_t ts_ns = 0;
  uint64_t used_bytes = 0;  // usage at the kill: shown, not used (VPA's OOM sample starts from the request)
  // The request in force at the kill (nullopt: the container's current one).
  // The recommender records each OOM once, with the pod's request then; a
  // replay of history that changed the request passes it here.
  std::optional<uint64_t> request_bytes;
};

struct VpaContainer {
  std::string pod, name;                               // a state per (pod, name); an aggregate per name
  std::span<const VpaSample> samples;                  // any order: taken in time order
  std::span<const VpaOom> ooms;                        // recorded after the samples of the same instant
  std::optional<uint64_t> request_bytes, limit_bytes;  // the current spec; nullopt: unset
};

// The recommender's defaults. Fractions and ratios are doubles as in its Go
// source; vpa_check_options refuses non-finite or out-of-range ones.
struct VpaOptions {
  int64_t aggregation_interval_ns = 24LL * 3600 * 1'000'000'000;  // MemoryAggregationInterval
  int64_t aggregation_interval_count = 8;                         // MemoryAggregationIntervalCount (expiry)
  int64_t half_life_ns = 24LL * 3600 * 1'000'000'000;             // MemoryHistogramDecayHalfLife
  double first_bucket_bytes = 1e7, bucket_ratio = 1.05, max_bytes = 1e12;
  double epsilon = 0.001 * 0.1;                                   // aggregations_config.go epsilon
  double target_percentile = 0.9, lower_percentile = 0.5, upper_percentile = 0.95;
  double safety_margin = 0.15;
  double pod_min_memory_mb = 250;                                 // MiB, as podMinMemoryMb × 1024 × 1024
  int64_t confidence_interval_ns = 24LL * 3600 * 1'000'000'000;   // ConfidenceIntervalMemory
  double upper_multiplier = 1.0, upper_exponent = 1.0;
  double lower_multiplier = 0.001, lower_exponent = -2.0;
  double oom_bump_ratio = 1.2;
  double oom_min_bump_bytes = 100.0 * 1024 * 1024;
  int64_t metrics_interval_ns = 60LL * 1'000'000'000;             // the feeder's fetch interval
};

// Empty when usable, else what is wrong.
std::string vpa_check_options(const VpaOptions& o);

// One histogram bucket with weight: [start, end) bytes, its share of the total weight.
struct VpaBucket {
  int index = 0;
  uint64_t start_bytes = 0, end_bytes = 0;
  double share = 0;
};

// One estimate: percentile (a bucket's end) → + margin → × confidence factor → at least the minimum.
struct VpaEstimate {
  double percentile = 0;
  int bucket = 0;                 // the bucket the percentile ended in
  uint64_t percentile_bytes = 0;  // MemoryAmountFromBytes(bucket end)
  uint64_t margin_bytes = 0;      // + ScaleResource(·, safety margin)
  double factor = 1;              // confidence factor (1 for the target)
  uint64_t scaled_bytes = 0;      // ScaleResource(·, factor)
  uint64_t bytes = 0;             // max(·, per-container minimum)
  bool raised_to_min = false;
};

struct VpaOomNote {
  int64_t ts_ns = 0;
  uint64_t used_bytes = 0;     // the input's usage at the kill
  uint64_t base_bytes = 0;     // max(request, interval's usage peak)
  uint64_t sample_bytes = 0;   // max(base + min bump, base × ratio)
  bool recorded = false;       // false: older than the last sample − interval
};

struct VpaRecommendation {
  std::string name;  // the container name the aggregate is for
  VpaEstimate target, lower, upper;
  std::optional<uint64_t> limit_bytes;  // in proportion; nullopt: VPA sets none
  std::string limit_rule;               // how the limit was found
  uint64_t min_bytes = 0;               // 250 MiB / containers per pod
  uint64_t containers = 0;              // container states (pods × this name) merged
  uint64_t peaks = 0;                   // peaks added (one per container per interval with samples)
  uint64_t samples = 0;                 // counted for the confidence (one per container per metrics interval)
  int64_t first_sample_ns = 0, last_sample_ns = 0;
  double lifespan_days = 0, samples_days = 0, confidence = 0;
  std::vector<VpaOomNote> ooms;
  uint64_t future_ignored = 0;          // samples and OOMs after now
  bool expired = false;                 // no sample for interval × count before now: VPA drops the aggregate
  std::vector<VpaBucket> buckets;       // the non-empty buckets, ascending
  double total_weight = 0;              // relative to the histogram's reference time
};

// One recommendation per container name, ordered by name. Containers without
// a sample up to now give none. Error: options refused.
Result<std::vector<VpaRecommendation>> vpa_model(std::span<const VpaContainer> containers, int64_t now_ns,
                                                 const VpaOptions& o = {});

// One line: the figures and where they came from.
std::string vpa_rationale(const VpaRecommendation& r);

}  // namespace ow::recommend
