// Reallocation plan for one incident (docs/rescue.md): how much a
// cgroup at its limit needs, and whether it comes from the parent's headroom
// ("global") or from siblings using no more than their median. Pure: no I/O, no
// clock; the agent gathers the inputs, the actuator applies the Plan, and
// policy/audit.hpp turns it into the audit record.
//
// Contract:
// - All sizes in bytes; kUnlimited (UINT64_MAX) means "no limit".
// - Every change is a whole number of pages (limits read from cgroupfs are
//   page multiples, so the limits written are too); donors are never lowered
//   below their floor (donors.hpp), the receiver is never raised above its
//   ceiling, the parent's limit is never touched.
// - Adjustments are ordered donors first, receiver last: applied in that order
//   the parent is never overcommitted by oomwatch.
// - Deterministic: same inputs, same plan (donors are considered in path order).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "policy/history.hpp"
#include "util/units.hpp"

namespace ow::policy {

enum class TriggerKind { oom_kill, oom_pending, pressure };
enum class Reservation { physical, strict };
enum class Source { global, siblings, none };
// The constraint that decided the outcome; see plan() for each.
enum class Outcome { planned, insufficient, rate_limited, at_ceiling, no_limit };

const char* to_string(TriggerKind k);  // "oom_kill", "oom_pending", "pressure"
const char* to_string(Reservation r);  // "physical", "strict"
std::vector<std::string> reservation_names();  // every to_string(Reservation), for the flag's --help
const char* to_string(Source s);       // "global", "siblings", "none"
const char* to_string(Outcome o);      // "planned", "insufficient", ...

struct Trigger {
  TriggerKind kind = TriggerKind::oom_kill;
  std::string cgroup;             // the cgroup whose limit was hit (the receiver)
  uint64_t victim_rss_bytes = 0;  // set by the caller at an oom_kill only; else 0
  uint64_t growth_bytes_per_s = 0;  // measured growth rate over the last seconds, 0 when unknown
  int64_t now_ns = 0;             // same clock as History
};

// oom_pending and oom_kill: the kernel has stopped or killed a task. The
// per-cgroup rate cap never refuses these while memory is available.
inline bool urgent(TriggerKind k) { return k != TriggerKind::pressure; }

// Usage over the statistics window (stats::WindowStats, copied by the agent).
// p95 is carried for recommendations; the decision uses median and max.
// span_ns: how much history the figures cover (now - first sample); a
// cgroup with less than Params::donor_min_history_ns never donates.
struct WindowFigures {
  bool has_stats = false;  // false: no window yet -> the cgroup never donates
  uint64_t min_bytes = 0, median_bytes = 0, max_bytes = 0, p95_bytes = 0;
  int64_t span_ns = 0;
};

// Per-cgroup settings from the config file ([[cgroup]] sections).
struct CgroupPolicy {
  uint64_t floor_bytes = 0;             // never lowered below this
  uint64_t ceiling_bytes = kUnlimited;  // never raised above this
  bool may_donate = true;               // false: never lowered at all
  int priority = 0;  // higher = more important; never donates to a lower one
};

struct CgroupState {
  std::string path;
  uint64_t usage_bytes = 0;
  uint64_t limit_bytes = kUnlimited;
  WindowFigures window;
  CgroupPolicy config;
};

// The settings an operator chooses (the config file and `run`'s flags:
// config::Config carries them), with their defaults.
struct Knobs {
  Reservation reservation = Reservation::physical;
  // Reserve kept free under the parent: max(reserve_bytes, fraction * limit).
  // At most one of the two is non-zero (both 0: no reserve).
  double reserve_fraction = 0.05;
  uint64_t reserve_bytes = 0;
  uint64_t min_step_bytes = 16ull << 20;
  // Growth term of the need: growth rate * horizon, the memory the receiver
  // is expected to take before the next snapshot-driven look.
  int64_t horizon_ns = 5'000'000'000;
  // Within the cooldown of a grant a receiver does not donate (no
  // ping-pong), and its next grant counts as one more in a row.
  int64_t cooldown_ns = 30'000'000'000;
  // Per receiver: bytes granted to one cgroup in the last minute. It defers
  // pressure grants (the cgroup is throttled, not stopped); urgent triggers
  // are served past it. kUnlimited: no cap.
  uint64_t max_moved_per_minute_bytes = 1ull << 30;
  // A sibling donates only with at least this much history behind its figures.
  int64_t donor_min_history_ns = 300'000'000'000;
};

// The knobs, and what is fixed or measured on the node.
struct Params : Knobs {
  // Donor margin above current usage: max(margin_bytes, fraction * usage).
  // 8 MiB covers a page-cache burst of a small cgroup; 10 % scales with big
  // ones, whose normal jitter is far more than 8 MiB.
  uint64_t donor_margin_bytes = 8ull << 20;
  double donor_margin_fraction = 0.10;
  // At most this many siblings give in one plan (the ones with the most
  // spare room): a plan never fans out into hundreds of limit writes of a
  // few pages each, which would cost the rescue milliseconds per donor.
  size_t max_donors = 8;
  uint64_t page_bytes = 4096;
  // Strict reservation under an unlimited parent: the machine's memory
  // (MemTotal) stands in for the parent's limit; 0 = unknown -> no global
  // headroom (strict never guesses). Physical mode ignores it.
  uint64_t machine_memory_bytes = 0;
};

struct Incident {
  Trigger trigger;
  CgroupState receiver;
  CgroupState parent;                 // its usage and limit; config unused
  std::vector<CgroupState> siblings;  // every other child of parent (strict sums their limits)
};

struct Adjustment {
  std::string path;
  uint64_t old_limit_bytes = 0;
  uint64_t new_limit_bytes = 0;
  uint64_t reduced_bytes = 0;  // donors: old - new; receiver: 0
  bool receiver = false;
};

struct Plan {
  std::string oom_cgroup;
  uint64_t need_bytes = 0;       // after page rounding and the ceiling cap
  uint64_t added_bytes = 0;      // what the receiver gets (global + donations)
  uint64_t global_bytes = 0;     // the part taken from the parent's headroom
  uint64_t headroom_bytes = 0;   // parent headroom seen (kUnlimited: unbounded)
  uint64_t receiver_limit_bytes = 0;  // receiver's limit before the plan
  uint32_t streak = 1;           // this grant's number in a row (doubles the min step)
  Source source = Source::none;  // siblings when any donor gave, even with a global part
  std::vector<Adjustment> adjustments;  // donors (path order), then the receiver; empty if added == 0
  Outcome result = Outcome::insufficient;
  std::string reason;  // one line for the audit log and the operator
};

// The decision, in this order:
//  no_limit      receiver has no limit: nothing to raise.
//  at_ceiling    its limit is at/above its ceiling: need capped to 0.
//  rate_limited  a pressure trigger, and the receiver's per-minute cap left
//                less than the need (possibly 0). Urgent triggers pass the cap
//                (said in the reason): a runaway is bounded by its ceiling and
//                the parent's limit, never by a budget other cgroups share.
//  planned       the whole need was found; insufficient otherwise (what is
//                safe is still given; the kernel decides the rest).
// need = page_up(max(victim rss, growth rate * horizon, min step * 2^(k-1))),
// k = the grant's number in a row (a receiver granted again within the
// cooldown, its limit still what the last grant left, is still growing:
// each grant doubles; a limit reset since starts again at 1), capped at
// ceiling - limit.
// The cooldown never refuses a receiver; it keeps recent receivers from
// donating, so memory does not ping-pong.
Plan plan(const Incident& in, const Params& p, const History& h);

// h with plan's grant recorded at now_ns (see record_grant). The caller
// records what it applied; a dry run records too, so its audit shows the
// cooldowns enforcing would have hit.
History record(History h, const Plan& plan, int64_t now_ns);

}  // namespace ow::policy
