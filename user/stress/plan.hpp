// Pure bookkeeping of progressive allocation: which kind grows by how much at
// each step. A generator rather than a vector, because --alloc 64G --step 4K
// would otherwise be 16M steps materialised up front.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "stress/strategy.hpp"

namespace ow::stress {

// How memory is charged, the same for a worker and for the runs that spawn
// workers: which kind, how much per step, and where the file kind's file is.
struct Charging {
  Strategy strategy = Strategy::Anon;
  uint64_t step_bytes = 4 << 20;
  std::string file_dir;  // a disk-backed directory (file and mixed)
};

struct Step {
  Kind kind;
  uint64_t bytes;  // a whole number of pages, > 0
};

uint64_t round_up_to(uint64_t v, uint64_t unit);

class StepPlan {
 public:
  // total_bytes is rounded up to whole pages; steps are step_bytes rounded
  // down to whole pages (at least one page). Mixed gives each kind a third
  // (remainder pages to anon, then file) and takes the kinds round-robin so
  // the three grow together, as they would in a real mixed workload.
  StepPlan(Strategy s, uint64_t total_bytes, uint64_t step_bytes, uint64_t page_bytes);

  std::optional<Step> next();
  uint64_t total_bytes() const { return total_; }
  uint64_t planned_bytes(Kind k) const { return planned_[static_cast<int>(k)]; }
  uint64_t step_bytes() const { return step_; }

 private:
  std::array<uint64_t, 3> planned_{};
  std::array<uint64_t, 3> left_{};
  uint64_t total_ = 0;
  uint64_t step_ = 0;
  int cursor_ = 0;
};

// One stress worker's share of the target: target/workers rounded up to pages.
uint64_t worker_share(uint64_t target_bytes, unsigned workers, uint64_t page_bytes);

}  // namespace ow::stress
