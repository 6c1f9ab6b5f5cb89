// OOM kills for recommendations, counted where they happened: at the cgroup
// whose limit was hit, with the usage the kernel reported at that instant
// (the agent's oom_kill table). A sample taken after a kill sees the memory
// the kill freed, so the counter-derived figure (history_facts.hpp) is only
// the fallback, for windows the agent recorded without events (a database
// from an older oomwatch, a kill while the agent was stopped). Pure.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "advisor/history_facts.hpp"
#include "store/history.hpp"

namespace ow::advisor {

struct KillFacts {
  uint64_t kills = 0;
  uint64_t last_used_bytes = 0;  // the limit's usage at the last kill
  int64_t last_ts_ns = 0;
};

// Per limit path, from rows in ascending time; machine-wide OOMs (path "")
// are left out: no limit to raise.
std::map<std::string, KillFacts> kill_facts(std::span<const store::KillRow> rows);

struct KillFigures {
  uint64_t kills = 0;
  std::optional<uint64_t> used_bytes;
  const char* from = nullptr;  // "kernel event", "oom_kill counter"; nullptr: no kill
};
// The kernel's events when there are any for the cgroup, else the counter's.
KillFigures kill_figures(const KillFacts* events, const RawFacts& counters);

}  // namespace ow::advisor
