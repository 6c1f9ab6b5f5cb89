#include "policy/cpu_budget.hpp"

#include <algorithm>
#include <cmath>

namespace ow::policy {

namespace {

// target rounded up to a whole multiple of base, within [base, ceiling].
int64_t to_multiple(double target_ns, int64_t base_ns, int64_t ceiling_ns) {
  double k = std::ceil(target_ns / static_cast<double>(base_ns) - 1e-9);
  if (!(k >= 1)) k = 1;  // also NaN
  int64_t ceiling_k = ceiling_ns / base_ns;
  int64_t n = k >= static_cast<double>(ceiling_k) ? ceiling_k : static_cast<int64_t>(k);
  return std::max<int64_t>(n, 1) * base_ns;
}

}  // namespace

int64_t ceiling_for(int64_t base_ns) { return std::max(base_ns, kDefaultCeilingNs); }

int64_t adjust_period(int64_t interval_ns) { return std::max<int64_t>(30'000'000'000, 4 * interval_ns); }

bool over_before_end(const CpuBudget& b, int64_t spent_ns, int64_t elapsed_ns, int64_t interval_ns) {
  if (b.budget <= 0 || interval_ns <= 0 || elapsed_ns < kEarlyWalks * interval_ns) return false;
  return static_cast<double>(spent_ns) > b.budget * static_cast<double>(adjust_period(interval_ns));
}

int64_t next_interval(const CpuBudget& b, double used, int64_t current_ns) {
  return next_interval(b, used, used, current_ns);
}

int64_t next_interval(const CpuBudget& b, double used, double walks_used, int64_t current_ns) {
  if (b.base_ns <= 0) return current_ns;
  const int64_t ceiling = std::max(b.ceiling_ns, b.base_ns);
  current_ns = std::clamp(current_ns, b.base_ns, ceiling);
  if (b.budget <= 0 || !(used >= 0)) return b.base_ns;  // off, or a figure that is no measurement
  const double cur = static_cast<double>(current_ns);
  const double walks = walks_used >= 0 ? std::min(walks_used, used) : used;  // NaN too: all of it
  // What the walks may cost at the target once the rest is paid, and the
  // interval at which their cost per walk (walks x cur) is that.
  const double room = b.budget * kTargetShare - (used - walks);
  const double want = room > 0 ? cur * walks / room : HUGE_VAL;
  if (used > b.budget) return std::max(to_multiple(want, b.base_ns, ceiling), std::min(current_ns + b.base_ns, ceiling));
  if (used < b.budget * kShortenBelow && current_ns > b.base_ns)
    return std::min(to_multiple(std::max(want, cur / 2), b.base_ns, ceiling), current_ns);
  return current_ns;
}

}  // namespace ow::policy
