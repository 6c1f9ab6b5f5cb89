// What the history database says about a cgroup beyond its window figures,
// shared by recommendations and replay: the figures in the rules' form, the
// last recorded limit and, from the oom_kill counter, the kills and the usage
// at the last one (raw tier only: buckets keep no event counters; the
// agent's oom_kill table has the kernel's own figures, advisor/kills.hpp).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recommend/rules.hpp"
#include "sampler/sample.hpp"
#include "stats/window.hpp"

namespace ow::advisor {

recommend::WindowFigures figures(const stats::WindowStats& w, int64_t window_ns);

// The oom_kill counter rose between two samples of the same cgroup: usage
// was then at its highest, so the larger of the two samples' usage and a
// watermark rise between them.
struct RawFacts {
  std::optional<uint64_t> last_limit;
  std::optional<uint64_t> oom_used;
  uint64_t oom_kills = 0;  // the counter's rises, summed
};
// RawFacts folded one sample at a time, so an hour of raw samples need not
// be in memory at once (HistoryStore::for_each_raw_sample). Each cgroup's
// samples must come in ascending time; cgroups may interleave.
class RawFactsFold {
 public:
  // Adds s; returns the usage at a kill seen at s (the oom_kill counter rose
  // since the cgroup's previous sample), 0 for none.
  uint64_t add(const sampler::Sample& s);
  std::map<std::string, RawFacts> facts() const;

 private:
  // What the usage at a kill needs of a cgroup's previous sample.
  struct PrevSample {
    uint64_t cgroup_id = 0, usage_bytes = 0, peak_bytes = 0, ev_oom_kill = 0;
  };
  struct Entry {
    RawFacts facts;
    PrevSample prev;
  };
  std::map<std::string, Entry> by_path_;
  // The last cgroup added: a run's samples come one after another.
  const std::string* last_path_ = nullptr;
  Entry* last_ = nullptr;
};
// samples: ascending time (as raw_samples returns them).
std::map<std::string, RawFacts> raw_facts(const std::vector<sampler::Sample>& samples);

}  // namespace ow::advisor
