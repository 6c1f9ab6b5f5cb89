// The agent's CPU budget: from the CPU the whole process used over the last
// adjustment period and the snapshot interval it ran at, the interval for the
// next period. Pure (no clock, no I/O): the snapshot worker measures and
// calls it (sampler/worker.hpp); docs/performance.md has the design.
//
// - Over the budget: stretch so that the same work would cost kTargetShare of
//   the budget (the walk's cost is about proportional to 1/interval), at
//   least by one base interval.
// - Under kShortenBelow of the budget: shorten the same way, at most halving
//   in one step, never below the base interval.
// - In between: keep. The band [kShortenBelow, 1] around the target
//   kTargetShare is the hysteresis: a period that lands where the previous
//   step aimed does not move the interval again.
// Intervals are whole multiples of the base, so each snapshot stands for a
// whole number of base-interval samples in the history (its weight).
#pragma once
#include <cstdint>

namespace ow::policy {

struct CpuBudget {
  double budget = 0.01;                  // fraction of one core; <= 0: off (the interval stays at base)
  int64_t base_ns = 1'000'000'000;       // --interval: the shortest interval
  int64_t ceiling_ns = 60'000'000'000;   // the longest (at least base_ns)
};

inline constexpr double kTargetShare = 0.8;   // a step aims at this share of the budget
inline constexpr double kShortenBelow = 0.5;  // shorten only under this share: clear room
inline constexpr int64_t kDefaultCeilingNs = 60'000'000'000;

// The interval for the next period. used: CPU seconds per wall second over
// the last period (0.018 = 1.8 % of a core); current_ns: the interval it ran at.
// Everything used is taken to scale with the walk rate.
int64_t next_interval(const CpuBudget& b, double used, int64_t current_ns);

// The same, knowing how much of used the walks themselves were (walks_used,
// over the same wall time; clamped to [0, used]): only that part scales with
// the interval. The rest stays whatever the interval: the history's row per
// cgroup per minute and its roll-up, the loop. At 30,000 cgroups that rest
// is about half the budget, so a step that took all of used as the walks'
// landed near the budget instead of at kTargetShare. When the rest alone is
// over the target, the ceiling.
int64_t next_interval(const CpuBudget& b, double used, double walks_used, int64_t current_ns);

// The ceiling for a base interval: kDefaultCeilingNs, or the base when longer.
int64_t ceiling_for(int64_t base_ns);

// How long a period the measurement covers at an interval: at least 30 s
// and at least 4 walks, so one slow walk or one roll-up does not decide.
int64_t adjust_period(int64_t interval_ns);

// Whether the period that began elapsed_ns ago, at interval_ns, having spent
// spent_ns of CPU, is decided before its end: once it has spent what the
// budget allows over the whole period, its figure is over the budget
// whatever follows, and waiting only spends more (a node of 30,000 cgroups
// at the 1 s start costs about 15 % of a core: the budget of a 30 s period
// is gone after 2 s). At least kEarlyWalks walks into it, so the first walk
// alone never decides. The figure to decide on is then spent over elapsed.
inline constexpr int64_t kEarlyWalks = 3;
bool over_before_end(const CpuBudget& b, int64_t spent_ns, int64_t elapsed_ns, int64_t interval_ns);

}  // namespace ow::policy
