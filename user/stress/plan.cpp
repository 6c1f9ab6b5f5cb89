#include "stress/plan.hpp"

#include <algorithm>

namespace ow::stress {

uint64_t round_up_to(uint64_t v, uint64_t unit) {
  if (unit == 0) return v;
  return (v + unit - 1) / unit * unit;
}

StepPlan::StepPlan(Strategy s, uint64_t total_bytes, uint64_t step_bytes, uint64_t page_bytes) {
  total_ = round_up_to(total_bytes, page_bytes);
  step_ = std::max(page_bytes, step_bytes / page_bytes * page_bytes);
  if (s != Strategy::Mixed) {
    planned_[static_cast<int>(s)] = total_;
  } else {
    uint64_t pages = total_ / page_bytes;
    for (int k = 0; k < 3; ++k) planned_[k] = (pages / 3 + (static_cast<uint64_t>(k) < pages % 3 ? 1 : 0)) * page_bytes;
  }
  left_ = planned_;
}

std::optional<Step> StepPlan::next() {
  for (int tries = 0; tries < 3; ++tries) {
    int k = cursor_;
    cursor_ = (cursor_ + 1) % 3;
    if (left_[k] == 0) continue;
    uint64_t b = std::min(step_, left_[k]);
    left_[k] -= b;
    return Step{static_cast<Kind>(k), b};
  }
  return std::nullopt;
}

uint64_t worker_share(uint64_t target_bytes, unsigned workers, uint64_t page_bytes) {
  if (workers == 0) return 0;
  return round_up_to((target_bytes + workers - 1) / workers, page_bytes);
}

}  // namespace ow::stress
