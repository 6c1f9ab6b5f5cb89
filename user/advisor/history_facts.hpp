// What the history database says about a cgroup beyond its window figures,
// shared by recommendations and replay: the figures in the rules' form, the
// last recorded limit and the usage at the last OOM kill (raw tier only:
// buckets keep no event counters).
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
};
// samples: ascending time (as the store returns them).
std::map<std::string, RawFacts> raw_facts(const std::vector<sampler::Sample>& samples);
// The usage at a kill seen at sample s (prev: the same cgroup's previous sample); 0: no kill.
uint64_t oom_used_at(const sampler::Sample* prev, const sampler::Sample& s);

}  // namespace ow::advisor
