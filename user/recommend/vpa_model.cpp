#include "recommend/vpa_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "recommend/quantity.hpp"
#include "recommend/rules.hpp"

namespace ow::recommend {
namespace {

// model/types.go MaxResourceAmount: the recommender's amounts stop here.
constexpr int64_t kMaxResourceAmount = 100'000'000'000'000;  // 1e14
// decaying_histogram.go maxDecayExponent: past 2^100 the reference moves.
constexpr int64_t kMaxDecayExponent = 100;
// Go's zero time (January 1, year 1, UTC) is this many seconds before the
// Unix epoch; time.Time.Round rounds to multiples since it.
constexpr int64_t kZeroTimeToEpochS = 62'135'596'800;

int64_t sat_i64(unsigned __int128 v) { return v > INT64_MAX ? INT64_MAX : static_cast<int64_t>(v); }
int64_t sat_add(int64_t a, int64_t b) {
  __int128 s = static_cast<__int128>(a) + b;
  return s > INT64_MAX ? INT64_MAX : s < INT64_MIN ? INT64_MIN : static_cast<int64_t>(s);
}
int64_t amount_of(uint64_t bytes) { return bytes > INT64_MAX ? INT64_MAX : static_cast<int64_t>(bytes); }

// model/types.go resourceAmountFromFloat: above 1e14 → 1e14, below 0 → 0,
// else truncated (Go's float → int64). NaN (0 × +Inf for an empty
// histogram's bound) is 0 here; the minimum decides it either way.
int64_t amount_from_float(double x) {
  if (std::isnan(x)) return 0;
  if (x > static_cast<double>(kMaxResourceAmount)) return kMaxResourceAmount;
  if (x < 0) return 0;
  return static_cast<int64_t>(x);
}
// model/types.go ScaleResource.
int64_t scale_resource(int64_t amount, double factor) { return amount_from_float(static_cast<double>(amount) * factor); }

// util/histogram_options.go exponentialHistogramOptions.
struct BucketScheme {
  int num = 0;
  double first = 0, ratio = 0, epsilon = 0;

  BucketScheme(double max_value, double first_bucket, double r, double eps) : first(first_bucket), ratio(r), epsilon(eps) {
    num = static_cast<int>(std::ceil(log_base(ratio, max_value * (ratio - 1) / first + 1))) + 1;
  }
  static double log_base(double base, double x) { return std::log(x) / std::log(base); }
  int find(double value) const {
    if (value < first) return 0;
    int b = static_cast<int>(log_base(ratio, value * (ratio - 1) / first + 1));
    return b >= num ? num - 1 : b;
  }
  double start(int b) const { return b == 0 ? 0.0 : first * (std::pow(ratio, b) - 1) / (ratio - 1); }
};

// util/histogram.go histogram + util/decaying_histogram.go decayingHistogram.
class DecayingHistogram {
 public:
  DecayingHistogram(const BucketScheme& s, int64_t half_life_ns)
      : s_(s), half_life_(half_life_ns), w_(s.num, 0.0), min_(s.num - 1), max_(0) {}

  void add(double value, double weight, int64_t ts) {
    weight *= decay_factor(ts);
    int b = s_.find(value);
    w_[b] += weight;
    total_ += weight;
    if (b < min_ && w_[b] >= s_.epsilon) min_ = b;
    if (b > max_ && w_[b] >= s_.epsilon) max_ = b;
  }
  void subtract(double value, double weight, int64_t ts) {
    weight *= decay_factor(ts);
    int b = s_.find(value);
    total_ = safe_subtract(total_, weight);
    w_[b] = safe_subtract(w_[b], weight);
    update_min_max();
  }
  bool empty() const { return w_[min_] < s_.epsilon; }
  // The end of the bucket where the cumulative weight first reaches
  // p × total (the start of the last bucket, which has no end).
  double percentile(double p, int* bucket_out) const {
    if (empty()) {
      *bucket_out = 0;
      return 0.0;
    }
    double partial = 0, threshold = p * total_;
    int b = min_;
    for (; b < max_; ++b) {
      partial += w_[b];
      if (partial >= threshold) break;
    }
    *bucket_out = b;
    return b < s_.num - 1 ? s_.start(b + 1) : s_.start(b);
  }
  double total() const { return total_; }
  std::vector<VpaBucket> buckets() const {
    std::vector<VpaBucket> out;
    if (empty()) return out;
    for (int b = min_; b <= max_; ++b)
      if (w_[b] >= s_.epsilon)
        out.push_back({b, static_cast<uint64_t>(s_.start(b)),
                       b < s_.num - 1 ? static_cast<uint64_t>(s_.start(b + 1)) : static_cast<uint64_t>(s_.start(b)),
                       w_[b] / total_});
    return out;
  }

 private:
  double safe_subtract(double v, double sub) const {
    v -= sub;
    return v < s_.epsilon ? 0.0 : v;
  }
  void update_min_max() {
    int last = s_.num - 1;
    while (w_[min_] < s_.epsilon && min_ < last) ++min_;
    while (w_[max_] < s_.epsilon && max_ > 0) --max_;
  }
  void scale(double f) {
    for (int b = min_; b <= max_; ++b) w_[b] *= f;
    total_ *= f;
    update_min_max();
  }
  // time.Time.Round(half-life): to the nearest multiple since Go's zero
  // time, halfway rounding up.
  int64_t round_time(int64_t ts) const {
    __int128 since_zero = static_cast<__int128>(ts) + static_cast<__int128>(kZeroTimeToEpochS) * 1'000'000'000;
    __int128 r = since_zero % half_life_;
    if (r < 0) r += half_life_;
    __int128 out = 2 * r < half_life_ ? ts - r : ts + (half_life_ - r);
    return out > INT64_MAX ? INT64_MAX : out < INT64_MIN ? INT64_MIN : static_cast<int64_t>(out);
  }
  void shift_reference(int64_t to) {
    to = round_time(to);
    if (has_ref_) {
      // exponent = round((old − new) / half-life); weights × 2^exponent.
      double e = std::floor(static_cast<double>(static_cast<__int128>(ref_) - to) / static_cast<double>(half_life_) + 0.5);
      scale(std::ldexp(1.0, static_cast<int>(std::clamp(e, -100000.0, 100000.0))));
    }
    // The first reference is Go's zero time, centuries back: the shift scales
    // the still-empty histogram by 2^-106752, which changes nothing.
    ref_ = to;
    has_ref_ = true;
  }
  double decay_factor(int64_t ts) {
    if (!has_ref_ || static_cast<__int128>(ts) > static_cast<__int128>(ref_) + static_cast<__int128>(half_life_) * kMaxDecayExponent)
      shift_reference(ts);
    return std::exp2(static_cast<double>(static_cast<__int128>(ts) - ref_) / static_cast<double>(half_life_));
  }

  BucketScheme s_;
  int64_t half_life_;
  std::vector<double> w_;
  double total_ = 0;
  int min_, max_;
  int64_t ref_ = 0;
  bool has_ref_ = false;
};

struct Aggregate {
  explicit Aggregate(const BucketScheme& s, int64_t half_life) : hist(s, half_life) {}
  DecayingHistogram hist;
  uint64_t containers = 0, peaks = 0, samples = 0, future = 0;
  bool has_samples = false;
  int64_t first = 0, last = 0;
  std::optional<uint64_t> request, limit;  // the first container's: a workload's pods share a spec
  std::vector<VpaOomNote> ooms;
};

// model/container.go ContainerState, memory half.
class ContainerState {
 public:
  ContainerState(Aggregate& a, const VpaOptions& o, int64_t request) : a_(a), o_(o), request_(request) {}

  // addMemorySample.
  bool add_memory(int64_t ts, int64_t usage, bool oom) {
    if (usage < 0 || (!oom && has_last_ && ts < last_)) return false;  // invalid or out of order
    last_ = ts;
    has_last_ = true;
    if (!has_window_) {  // the first sample
      window_end_ = ts;
      has_window_ = true;
    }
    bool add = false;
    if (ts < window_end_) {
      int64_t old = std::max(memory_peak_, oom_peak_);
      if (old != 0 && usage > old) {
        a_.hist.subtract(static_cast<double>(old), 1.0, window_end_);
        add = true;
      }
    } else {
      // Move to the interval holding ts: (ts − end) truncated to whole
      // intervals, plus one.
      __int128 d = static_cast<__int128>(ts) - window_end_;
      __int128 shift = d - d % o_.aggregation_interval_ns + o_.aggregation_interval_ns;
      window_end_ = sat_i64(static_cast<unsigned __int128>(static_cast<__int128>(window_end_) + shift));
      memory_peak_ = 0;
      oom_peak_ = 0;
      add = true;
      ++a_.peaks;
    }
    if (add) {
      a_.hist.add(static_cast<double>(usage), 1.0, window_end_);
      (oom ? oom_peak_ : memory_peak_) = usage;
    }
    return true;
  }

  // RecordOOM.
  void record_oom(int64_t ts, uint64_t used_at_kill, std::optional<int64_t> request_then) {
    VpaOomNote n{ts, used_at_kill, 0, 0, false};
    if (has_last_ && static_cast<__int128>(ts) < static_cast<__int128>(last_) - o_.aggregation_interval_ns) {
      a_.ooms.push_back(n);  // too old to be relevant
      return;
    }
    // The request or the interval's usage peak (not an earlier OOM's peak,
    // so repeated kills do not compound).
    int64_t used = std::max(request_then.value_or(request_), memory_peak_);
    int64_t needed = std::max(sat_add(used, amount_from_float(o_.oom_min_bump_bytes)), scale_resource(used, o_.oom_bump_ratio));
    n.base_bytes = static_cast<uint64_t>(used);
    n.sample_bytes = static_cast<uint64_t>(needed);
    n.recorded = add_memory(ts, needed, true);
    a_.ooms.push_back(n);
  }

 private:
  Aggregate& a_;
  const VpaOptions& o_;
  int64_t request_;
  int64_t memory_peak_ = 0, oom_peak_ = 0;
  int64_t window_end_ = 0, last_ = 0;
  bool has_window_ = false, has_last_ = false;
};

// logic/estimator.go getConfidence.
double confidence_of(const Aggregate& a, const VpaOptions& o, double* lifespan, double* samples) {
  *lifespan = static_cast<double>(a.last - a.first) / static_cast<double>(o.confidence_interval_ns);
  // time.Duration.Minutes: 1440 for 24 h.
  int64_t whole = o.confidence_interval_ns / 60'000'000'000LL, rest = o.confidence_interval_ns % 60'000'000'000LL;
  double minutes = static_cast<double>(whole) + static_cast<double>(rest) / 60e9;
  *samples = static_cast<double>(a.samples) / minutes;
  return std::min(*lifespan, *samples);
}

// percentile → WithMemoryMargin → WithMemoryConfidenceMultiplier → WithMemoryMinResource.
VpaEstimate estimate(const DecayingHistogram& h, double pct, double margin, double factor, int64_t min_amount) {
  VpaEstimate e;
  e.percentile = pct;
  int64_t base = amount_from_float(h.percentile(pct, &e.bucket));
  int64_t with_margin = sat_add(base, scale_resource(base, margin));
  int64_t scaled = scale_resource(with_margin, factor);
  e.percentile_bytes = static_cast<uint64_t>(base);
  e.margin_bytes = static_cast<uint64_t>(with_margin);
  e.factor = factor;
  e.scaled_bytes = static_cast<uint64_t>(scaled);
  e.raised_to_min = scaled < min_amount;
  e.bytes = static_cast<uint64_t>(std::max(scaled, min_amount));
  return e;
}

// getProportionalResourceLimit, memory.
void proportional_limit(VpaRecommendation& r, const std::optional<uint64_t>& request, const std::optional<uint64_t>& limit) {
  uint64_t target = r.target.bytes;
  if (!limit || *limit == 0) {
    r.limit_rule = "no limit (none now, so VPA sets none)";
    return;
  }
  if (target == 0) {
    r.limit_rule = "no limit (no target)";
    return;
  }
  if (!request || *request == 0) {
    r.limit_bytes = target;
    r.limit_rule = "limit = target (no request now: taken as equal to the limit)";
    return;
  }
  if (*request == *limit) {
    r.limit_bytes = target;
    r.limit_rule = "limit = target (request equals limit now)";
    return;
  }
  // big.Int: limit × target / request, floored; capped at MaxInt64.
  unsigned __int128 q = static_cast<unsigned __int128>(amount_of(*limit)) * amount_of(target) / amount_of(*request);
  r.limit_bytes = static_cast<uint64_t>(sat_i64(q));
  r.limit_rule = fmt::format("limit = limit × target / request = {} × {} / {} = {}", quantity(*limit), mib_text(target),
                             quantity(*request), mib_text(*r.limit_bytes));
}

bool finite_in(double x, double lo, double hi) { return std::isfinite(x) && x >= lo && x <= hi; }

}  // namespace

std::string vpa_check_options(const VpaOptions& o) {
  if (o.aggregation_interval_ns <= 0 || o.half_life_ns <= 0 || o.confidence_interval_ns <= 0 || o.metrics_interval_ns < 0 ||
      o.aggregation_interval_count <= 0)
    return "VPA model: intervals and half-life must be positive";
  if (!finite_in(o.first_bucket_bytes, 1e-300, 1e300) || !finite_in(o.max_bytes, 1e-300, 1e300) ||
      !finite_in(o.bucket_ratio, 1.0, 1e6) || o.bucket_ratio <= 1.0 || !finite_in(o.epsilon, 1e-300, 1e300))
    return "VPA model: histogram options must be finite, positive, ratio above 1";
  if (BucketScheme(o.max_bytes, o.first_bucket_bytes, o.bucket_ratio, o.epsilon).num > 1'000'000)
    return "VPA model: too many histogram buckets";
  for (double p : {o.target_percentile, o.lower_percentile, o.upper_percentile})
    if (!finite_in(p, 0, 1)) return "VPA model: percentiles must be finite, in [0, 1]";
  if (!finite_in(o.safety_margin, 0, 1e6) || !finite_in(o.pod_min_memory_mb, 0, 1e12) || !finite_in(o.oom_bump_ratio, 0, 1e6) ||
      !finite_in(o.oom_min_bump_bytes, 0, 1e18) || !finite_in(o.upper_multiplier, 0, 1e6) ||
      !finite_in(o.lower_multiplier, 0, 1e6) || !finite_in(o.upper_exponent, -1e3, 1e3) ||
      !finite_in(o.lower_exponent, -1e3, 1e3))
    return "VPA model: margins, minimum, OOM bump and confidence multipliers must be finite and non-negative";
  return {};
}

Result<std::vector<VpaRecommendation>> vpa_model(std::span<const VpaContainer> containers, int64_t now_ns, const VpaOptions& o) {
  if (auto e = vpa_check_options(o); !e.empty()) return app_error(e);
  BucketScheme scheme(o.max_bytes, o.first_bucket_bytes, o.bucket_ratio, o.epsilon);
  std::map<std::string, Aggregate> aggs;
  for (const auto& c : containers) {
    auto [it, fresh] = aggs.try_emplace(c.name, scheme, o.half_life_ns);
    Aggregate& a = it->second;
    if (fresh) {
      a.request = c.request_bytes;
      a.limit = c.limit_bytes;
    }
    ++a.containers;
    // Samples, then OOMs, in time order (the feeder records the OOMs it
    // was told of after each fetch's samples).
    struct Ev {
      int64_t ts;
      bool oom;
      uint64_t bytes;
      std::optional<uint64_t> request;  // an OOM's request in force then (nullopt: the container's)
    };
    std::vector<Ev> evs;
    evs.reserve(c.samples.size() + c.ooms.size());
    for (const auto& s : c.samples) {
      if (s.ts_ns > now_ns) {
        ++a.future;
        continue;
      }
      evs.push_back({s.ts_ns, false, s.bytes, std::nullopt});
    }
    for (const auto& k : c.ooms) {
      if (k.ts_ns > now_ns) {
        ++a.future;
        continue;
      }
      evs.push_back({k.ts_ns, true, k.used_bytes, k.request_bytes});
    }
    std::stable_sort(evs.begin(), evs.end(), [](const Ev& x, const Ev& y) { return x.ts < y.ts || (x.ts == y.ts && !x.oom && y.oom); });
    ContainerState st(a, o, amount_of(c.request_bytes.value_or(0)));
    bool counted = false;
    int64_t slot = 0;
    for (const auto& e : evs) {
      if (e.oom) {
        st.record_oom(e.ts, e.bytes, e.request ? std::optional<int64_t>(amount_of(*e.request)) : std::nullopt);
        continue;
      }
      if (!st.add_memory(e.ts, amount_of(e.bytes), false)) continue;
      // The confidence counts the feeder's samples: one a metrics interval.
      int64_t s = o.metrics_interval_ns ? e.ts / o.metrics_interval_ns - (e.ts % o.metrics_interval_ns < 0 ? 1 : 0) : 0;
      if (!counted || s != slot || o.metrics_interval_ns == 0) ++a.samples;
      counted = true;
      slot = s;
      if (!a.has_samples || e.ts < a.first) a.first = e.ts;
      if (!a.has_samples || e.ts > a.last) a.last = e.ts;
      a.has_samples = true;
    }
  }

  std::vector<VpaRecommendation> out;
  // GetRecommendedPodResources: the pod minimum split over its container names.
  double fraction = aggs.empty() ? 1.0 : 1.0 / static_cast<double>(aggs.size());
  int64_t min_amount = scale_resource(amount_from_float(o.pod_min_memory_mb * 1024 * 1024), fraction);
  for (auto& [name, a] : aggs) {
    if (a.hist.empty()) continue;
    VpaRecommendation r;
    r.name = name;
    r.containers = a.containers;
    r.peaks = a.peaks;
    r.samples = a.samples;
    r.first_sample_ns = a.first;
    r.last_sample_ns = a.last;
    r.future_ignored = a.future;
    r.ooms = std::move(a.ooms);
    r.min_bytes = static_cast<uint64_t>(min_amount);
    r.confidence = confidence_of(a, o, &r.lifespan_days, &r.samples_days);
    r.expired = a.has_samples && static_cast<__int128>(now_ns) - a.last >=
                                     static_cast<__int128>(o.aggregation_interval_ns) * o.aggregation_interval_count;
    r.target = estimate(a.hist, o.target_percentile, o.safety_margin, 1.0, min_amount);
    r.upper = estimate(a.hist, o.upper_percentile, o.safety_margin,
                       std::pow(1.0 + o.upper_multiplier / r.confidence, o.upper_exponent), min_amount);
    r.lower = estimate(a.hist, o.lower_percentile, o.safety_margin,
                       std::pow(1.0 + o.lower_multiplier / r.confidence, o.lower_exponent), min_amount);
    r.buckets = a.hist.buckets();
    r.total_weight = a.hist.total();
    proportional_limit(r, a.request, a.limit);
    out.push_back(std::move(r));
  }
  return out;
}

std::string vpa_rationale(const VpaRecommendation& r) {
  auto pct = [](double p) { return fmt::format("p{:g}", p * 100); };
  auto est = [&](const VpaEstimate& e) {
    std::string s = fmt::format("{} {} (bucket {} end) + margin = {}", pct(e.percentile), mib_text(e.percentile_bytes), e.bucket,
                                mib_text(e.margin_bytes));
    if (e.factor != 1.0) s += fmt::format(" × {:.3f} = {}", e.factor, mib_text(e.scaled_bytes));
    if (e.raised_to_min) s += fmt::format(", raised to the {} minimum", mib_text(e.bytes));
    return s;
  };
  std::string s = fmt::format("{} daily peak(s) from {} container(s) in a decaying histogram: target = {}", r.peaks,
                              r.containers, est(r.target));
  s += fmt::format("; lower = {}; upper = {} (confidence {:.2f} day(s))", est(r.lower), est(r.upper), r.confidence);
  size_t recorded = std::count_if(r.ooms.begin(), r.ooms.end(), [](const auto& n) { return n.recorded; });
  if (!r.ooms.empty()) {
    const VpaOomNote* last = nullptr;
    for (const auto& n : r.ooms)
      if (n.recorded) last = &n;
    s += fmt::format("; {} OOM kill(s) recorded", recorded);
    if (last)
      s += fmt::format(" (last: max(request, interval peak) {} → sample {})", mib_text(last->base_bytes),
                       mib_text(last->sample_bytes));
    if (recorded < r.ooms.size()) s += fmt::format(", {} too old", r.ooms.size() - recorded);
  }
  s += "; " + r.limit_rule;
  if (r.expired) s += "; no sample for 8 intervals before now: VPA would have dropped this history";
  return s;
}

}  // namespace ow::recommend
