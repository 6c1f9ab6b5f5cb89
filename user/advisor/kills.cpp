#include "advisor/kills.hpp"

namespace ow::advisor {

std::map<std::string, KillFacts> kill_facts(std::span<const store::KillRow> rows) {
  std::map<std::string, KillFacts> out;
  for (const auto& k : rows) {
    if (k.path.empty()) continue;
    auto& f = out[k.path];
    f.kills++;
    if (k.ts_ns >= f.last_ts_ns) {
      f.last_ts_ns = k.ts_ns;
      f.last_used_bytes = k.usage_bytes;
    }
  }
  return out;
}

KillFigures kill_figures(const KillFacts* events, const RawFacts& counters) {
  if (events && events->kills) return {events->kills, events->last_used_bytes, "kernel event"};
  if (counters.oom_used) return {std::max<uint64_t>(counters.oom_kills, 1), counters.oom_used, "oom_kill counter"};
  return {};
}

}  // namespace ow::advisor
