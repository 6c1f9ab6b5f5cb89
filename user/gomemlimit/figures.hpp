// Which memory.stat figures a hint round read earlier still stand for a
// target, so that a round from a snapshot reads memory.stat only of what
// moved. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "gomemlimit/calc.hpp"

namespace ow::gomemlimit {

// A target's memory.stat figures as last read, what the snapshot said then,
// and the last breakdown with what it was computed from.
struct TargetFigures {
  std::map<std::string, uint64_t> stat;
  std::optional<uint64_t> v1_kmem_bytes;
  uint64_t usage = 0, inactive = 0;  // the snapshot's, when memory.stat was read
  int64_t read_ns = 0;
  uint64_t eff_limit = 0, ebpf = 0, machine = 0;
  std::string limit_at;  // the level whose limit was the effective one
  Breakdown breakdown;
};

// A figure moved by more than max(1 MiB, 1 %) of the larger of the two.
bool moved(uint64_t was, uint64_t now);
// The memory.stat figures still stand: the same effective limit from the
// same level, and neither usage nor inactive file moved since they were read.
bool figures_hold(const TargetFigures& f, uint64_t eff_limit, const std::string& limit_at, uint64_t usage,
                  uint64_t inactive);
// The figures hold and so do the other inputs of the breakdown: it is this
// round's without computing it again.
bool breakdown_holds(const TargetFigures& f, uint64_t ebpf, uint64_t machine);
// How many figures older than max_age_ns a round re-reads, so that every
// target's are within that age and no round reads them all at once.
size_t aged_reread_budget(size_t targets, int64_t period_ns, int64_t max_age_ns);

}  // namespace ow::gomemlimit
