// What kind of memory a stress worker holds. The strategies differ in what the
// kernel can do with them at the limit, which is the whole point of testing
// each: file pages (page cache) are reclaimable, so a memcg at its limit drops
// them and the OOM killer usually stays quiet; anon and shmem pages can only go
// to swap, so without swap the OOM killer fires.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ow::stress {

// One kind of charged memory.
enum class Kind { Anon = 0, File = 1, Shmem = 2 };
// What the user asks for: a kind, or a third of each.
// A single-kind strategy has the same value as its Kind.
enum class Strategy { Anon = 0, File = 1, Shmem = 2, Mixed = 3 };

Result<Strategy> parse_strategy(std::string_view s);
std::vector<std::string> strategy_names();  // what parse_strategy accepts
const char* strategy_name(Strategy s);
const char* kind_name(Kind k);
bool uses_kind(Strategy s, Kind k);

// True when the kernel can reclaim this kind under a memcg limit without swap.
bool reclaimable_without_swap(Kind k);

// The sentence every --strategy help text carries.
inline constexpr const char* kStrategyHelp =
    "anon (private anonymous pages), file (page cache of a temp file on a disk filesystem, re-read to stay "
    "charged), shmem (memfd/tmpfs pages), mixed (a third each). The OOM killer's reclaim can drop file pages, so "
    "file runs usually survive the limit; anon and shmem cannot be reclaimed without swap, so they get OOM-killed";

}  // namespace ow::stress
