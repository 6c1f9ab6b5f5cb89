// Shared builders for the policy tests: one parent /p with limit 1 GiB and
// usage 600 MiB, a receiver /p/a at its 200 MiB limit, and siblings added per
// test. Figures are in MiB so the expected numbers can be checked by hand.
#pragma once
#include "policy/realloc.hpp"

namespace owtest::policy {

using namespace ow::policy;
inline constexpr uint64_t MiB = 1ull << 20;
inline constexpr uint64_t kPage = 4096;
inline constexpr int64_t kSec = 1'000'000'000;
inline constexpr int64_t kNow = 1000 * kSec;

inline CgroupState cg(std::string path, uint64_t usage, uint64_t limit) {
  CgroupState c;
  c.path = std::move(path);
  c.usage_bytes = usage;
  c.limit_bytes = limit;
  return c;
}

// A sibling with a statistics window (min = 0, p95 = max).
inline CgroupState sib(std::string path, uint64_t usage, uint64_t limit, uint64_t median, uint64_t max) {
  CgroupState c = cg(std::move(path), usage, limit);
  c.window = {true, 0, median, max, max, 3600 * kSec};  // an hour of history
  return c;
}

// growth: bytes expected over the default 5 s horizon (a multiple of 5).
inline Incident incident(uint64_t growth = 0, TriggerKind kind = TriggerKind::pressure) {
  Incident in;
  in.trigger = {kind, "/p/a", 0, growth / 5, kNow};
  in.receiver = cg("/p/a", 200 * MiB, 200 * MiB);
  in.parent = cg("/p", 600 * MiB, 1024 * MiB);
  return in;
}

inline Params strict() {
  Params p;
  p.reservation = Reservation::strict;
  return p;
}

inline uint64_t new_limit(const Plan& pl, const std::string& path) {
  for (const auto& a : pl.adjustments)
    if (a.path == path) return a.new_limit_bytes;
  return 0;
}

}  // namespace owtest::policy
