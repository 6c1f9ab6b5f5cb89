// Siblings that give memory to a receiver: who may donate,
// how low a donor may go, and how a want is split among donors. Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/realloc.hpp"

namespace ow::policy {

// The lowest limit a donor may get, page-rounded up:
// max(usage + margin, window max, configured floor), where
// margin = max(p.donor_margin_bytes, p.donor_margin_fraction * usage).
// The window max keeps what the cgroup was seen to need; the margin keeps
// room for what it does right now.
uint64_t donor_floor_bytes(const CgroupState& c, const Params& p);

// Why sibling s may not donate to receiver now, or nullopt when it may:
// may_donate=false, no stats or less history than p.donor_min_history_ns, no
// limit, usage above its median, priority above the receiver's, received
// memory within the cooldown (it must not give back what it just got).
std::optional<std::string> why_not_donor(const CgroupState& s, const CgroupState& receiver,
                                         const Params& p, const History& h, int64_t now_ns);

struct Donation {
  std::string path;
  uint64_t old_limit_bytes = 0;
  uint64_t new_limit_bytes = 0;
  uint64_t given_bytes = 0;  // old - new, a page multiple, > 0
};

struct DonorPick {
  std::vector<Donation> donations;  // path order; only donors that give > 0
  uint64_t total_bytes = 0;
  std::vector<std::string> skipped;  // "path: why" for each sibling that could not give
};

// Splits want_bytes (a page multiple) among eligible siblings in proportion
// to their spare room (limit - floor, in whole pages), largest remainders
// getting the leftover pages. If the total spare is below want, every donor
// gives all of its spare room and total_bytes < want_bytes. With more than
// p.max_donors eligible siblings, only the p.max_donors with the most spare
// room (ties in path order) are asked; the others are named in skipped.
DonorPick pick_donors(const CgroupState& receiver, const std::vector<CgroupState>& siblings,
                      uint64_t want_bytes, const Params& p, const History& h, int64_t now_ns);

}  // namespace ow::policy
