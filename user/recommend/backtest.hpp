// Out-of-sample backtest: three memory policies stepped through one
// workload's recorded working set. Pure: a series in, scores out; no I/O,
// no clock.
//
// Steps: t_k = first sample + k × step (k = 1, 2, ...) while t_k is at or
// before the last sample; the data before t_1 is the warm-up, scored by no
// policy. At each step every policy decides from the data before t_k only
// and is scored on [t_k, t_k+1) (the last step: to the last sample).
//
// Policies, each starting from the current request and limit:
//   rules   oomwatch's rules (rules.hpp) on the long and short windows ending
//           at t_k, with the OOM floor from the kills it saw, through the
//           same hysteresis and cooldown as `recommend` (gate.hpp decide):
//           the running request and limit change only when it proposes;
//   vpa     the VPA recommender model (vpa_model.hpp) on every sample before
//           t_k, with its updater's rule: the running request changes only
//           when it lies outside [lower bound, upper bound], and then to the
//           target, the limit kept in proportion (none without one); its
//           OOM samples start from the request in force at each kill, and
//           a sample that holds longer than the feeder's minute stands for
//           one a minute until the next (up to an hour: longer is a gap), so
//           the confidence counts what the feeder would have fetched;
//   static  the current request and limit, never changed.
//
// What each policy sees is what the kernel would have let it see: each
// sample capped at the limit it had in force then, and an OOM kill at the
// limit for each episode it would have caused (below). The recorded usage
// goes on after a would-be kill: the workload is taken to restart with the
// same demand, so the demand the recording shows is still there.
//
// Scores, each sample holding until the next one (the last adds nothing):
//   oom_episodes  a run of consecutive samples whose working set is above
//                 the limit in force counts once (a kill, then a restart
//                 that runs into the limit again is the same crash loop
//                 until the demand falls back to the limit); a recorded
//                 kill at usage at or above the limit counts too, unless
//                 it falls inside such a run;
//   near_ns       time at or above near_pm (900: 90 %) of the limit,
//                 including the time above it;
//   waste         limit − working set where positive, integrated (byte·ns;
//                 waste_gib_hours() for GiB·h);
//   changes       each change of the running request or limit (a restart).
// A policy without a limit (VPA when there is none now) has no OOM episode,
// no near-limit time and no waste.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recommend/rules.hpp"
#include "recommend/vpa_model.hpp"
#include "util/result.hpp"

namespace ow::recommend {

struct BtPoint {
  int64_t ts_ns = 0;
  uint64_t ws_bytes = 0;
};

struct BtKill {
  int64_t ts_ns = 0;
  uint64_t used_bytes = 0;  // the usage when the kernel killed (the demand reached at least this)
};

struct BtSeries {
  std::string name;
  std::vector<BtPoint> points;  // ascending ts, non-empty
  std::vector<BtKill> kills;    // ascending ts
  std::optional<uint64_t> request_bytes;  // the current request (nullopt: unknown, taken as the limit)
  std::optional<uint64_t> limit_bytes;    // the current limit (nullopt: none)
};

struct BacktestOptions {
  int64_t step_ns = 3600LL * 1'000'000'000;  // 1 h
  int64_t window_ns = 24LL * 3600 * 1'000'000'000, short_window_ns = 15LL * 60 * 1'000'000'000;  // the rules' windows
  uint32_t near_pm = 900;  // "near the limit": at or above 90 % of it
  Rules rules;
  VpaOptions vpa;
};

// Empty when usable, else what is wrong.
std::string check_backtest_options(const BacktestOptions& o);

struct PolicyScore {
  uint64_t oom_episodes = 0, changes = 0;
  int64_t near_ns = 0;
  unsigned __int128 waste_byte_ns = 0;
  std::optional<uint64_t> first_limit_bytes, last_limit_bytes;  // in force at the first and the last step
  double waste_gib_hours() const;
  double near_minutes() const { return static_cast<double>(near_ns) / 60e9; }
  PolicyScore& operator+=(const PolicyScore& o);
};

// What one policy had in force from one step on.
struct BtSetting {
  std::optional<uint64_t> request_bytes, limit_bytes;
  bool changed = false;  // changed at this step
};

struct BtStep {
  int64_t ts_ns = 0;
  BtSetting rules, vpa;
};

struct BacktestResult {
  std::string name;
  int64_t from_ns = 0, to_ns = 0;  // the scored span: the first step to the last sample
  uint64_t samples = 0, recorded_kills = 0;
  PolicyScore rules, vpa, fixed;   // fixed: the static current limit
  std::vector<BtStep> steps;
};

// Error: options refused, no sample, points out of order, or a series too
// short for one step (its span is below the step).
Result<BacktestResult> backtest(const BtSeries& s, const BacktestOptions& o = {});

}  // namespace ow::recommend
