// How the agent arms a managed cgroup for the rescue, and when it must leave
// one alone. Pure: the agent reads the cgroup's files, this decides what to
// write.
//   v1: oom_kill_disable 1 makes a cgroup pause at its limit instead of
//       killing; a new child copies its parent's flag at mkdir.
//   v2: a memory.high guard a little below memory.max (rescue_high_bytes),
//       following memory.max as it changes.
#pragma once
#include <cstdint>
#include <optional>

#include "policy/rescue.hpp"

namespace ow::policy {

enum class V1Arm {
  leave,       // it reads 1 and oomwatch did not write it: someone else's, never touched
  watch_only,  // it reads 1 already, inherited from an armed parent or ours: watch it, write nothing
  arm,         // journal its 0, write 1, watch it
};

// reads_disabled: oom_kill_disable reads 1 now. journalled: oomwatch's
// journal holds this cgroup's setting (oomwatch armed it, in this run or a
// previous one). is_root: a --manage parent (a child reading 1 inherited it
// from its armed parent and is watched as it is).
V1Arm v1_arm_step(bool is_root, bool reads_disabled, bool journalled);

// Whether memory.high reading high_bytes is oomwatch's to move: it reads
// "max" and oomwatch set none (ours_bytes 0), or it reads exactly the guard
// oomwatch set. Anything else was written by someone else: left alone.
bool guard_is_ours(uint64_t ours_bytes, uint64_t high_bytes);

// The memory.high to write for a guard that is ours, or nullopt when it is
// right already (or there is no limit to guard). kUnlimited means "max":
// the guard is taken off (no room for one below memory.max).
std::optional<uint64_t> guard_write(uint64_t high_bytes, uint64_t max_bytes, uint64_t usage_bytes,
                                    const GuardParams& g = {});

}  // namespace ow::policy
