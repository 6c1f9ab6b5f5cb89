#include "recommend/knative.hpp"

#include <fmt/format.h>

#include <cmath>

#include "recommend/rules.hpp"

namespace ow::recommend {
namespace {

std::string num(double v) { return fmt::format("{:g}", v); }
std::string pct(uint64_t part, uint64_t whole) { return fmt::format("{:.1f} %", 100.0 * part / whole); }

}  // namespace

KnativeAdvice advise_knative(const KnativeInput& in, const KnativeRules& r) {
  KnativeAdvice a;
  const KnativeSettings& s = in.settings;
  a.current_target = s.target ? *s.target : s.container_concurrency > 0 ? static_cast<double>(s.container_concurrency)
                                                                       : r.default_target;
  std::string metric = s.metric.empty() ? "concurrency" : s.metric;
  if (metric != "concurrency") {
    a.rationale = "autoscaling metric is " + metric + ", not concurrency: no concurrency advice";
    return a;
  }
  if (!in.concurrency_p95) {
    a.rationale = "no concurrency series: no concurrency advice";
    return a;
  }
  if (in.limit_bytes == 0) {
    a.rationale = "no limit to compare ws_max with: no concurrency advice";
    return a;
  }
  double conc = *in.concurrency_p95, tgt = a.current_target;
  bool near = scale_up(in.limit_bytes, r.near_pm) <= in.ws_max_bytes;
  bool far = in.ws_max_bytes <= in.limit_bytes * static_cast<unsigned __int128>(r.far_pm) / 1000;
  std::string mem = fmt::format("ws_max {} is {} of the limit {}", mib_text(in.ws_max_bytes),
                                pct(in.ws_max_bytes, in.limit_bytes), mib_text(in.limit_bytes));
  bool target_fixed = in.overrides.annotations.count(kTargetAnnotation) > 0;
  if (near && conc > tgt) {
    a.clause = "lower";
    int64_t t = std::max<int64_t>(1, static_cast<int64_t>(std::floor(tgt * (1000 - r.lower_pm) / 1000.0)));
    a.rationale = fmt::format("lower: {} (>= {}) and concurrency p95 {} > target {}", mem, factor_text(r.near_pm),
                              num(conc), num(tgt));
    if (target_fixed)
      a.rationale += "; target kept: set explicitly in the overrides";
    else if (t < tgt)
      a.target = t, a.rationale += fmt::format(" -> target {} (× {})", t, factor_text(1000 - r.lower_pm));
    else
      a.rationale += "; target already at its minimum of 1";
    if (s.container_concurrency == 0) {
      if (in.overrides.container_concurrency)
        a.rationale += "; containerConcurrency kept: set explicitly in the overrides";
      else {
        a.container_concurrency = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(tgt)));
        a.rationale += fmt::format("; containerConcurrency 0 (unlimited) -> {} (the old target as a hard bound)",
                                   *a.container_concurrency);
      }
    }
  } else if (far && in.queue_depth_p95 && *in.queue_depth_p95 >= r.queue_high && conc < tgt) {
    a.clause = "raise";
    int64_t t = static_cast<int64_t>(std::floor(tgt * (1000 + r.raise_pm) / 1000.0));
    a.rationale = fmt::format("raise: {} (<= {}), queue-depth p95 {} >= {} and concurrency p95 {} < target {}", mem,
                              factor_text(r.far_pm), num(*in.queue_depth_p95), num(r.queue_high), num(conc), num(tgt));
    if (target_fixed)
      a.rationale += "; target kept: set explicitly in the overrides";
    else if (t > tgt)
      a.target = t, a.rationale += fmt::format(" -> target {} (× {})", t, factor_text(1000 + r.raise_pm));
    else
      a.rationale += "; +20 % rounds to no whole step";
  } else {
    a.rationale = fmt::format("none: {}; concurrency p95 {}, target {}{}", mem, num(conc), num(tgt),
                              in.queue_depth_p95 ? ", queue-depth p95 " + num(*in.queue_depth_p95) : "");
  }
  bool change = a.target || a.container_concurrency;
  if (change && in.cooling_down) a.rationale += "; held back: the memory recommendation's cooldown is running";
  a.propose = change && !in.cooling_down;
  return a;
}

}  // namespace ow::recommend
