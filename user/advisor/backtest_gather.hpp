// Backtest inputs (recommend/backtest.hpp): one series per workload, from the
// history database (the points `recommend --replay` reads) or from sample
// files `oomwatch collect --out` wrote (recorded traces, tests/traces/).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "advisor/gather.hpp"
#include "recommend/backtest.hpp"
#include "sampler/sample.hpp"

namespace ow::advisor {

struct BacktestSeries {
  recommend::BtSeries series;
  std::string source;  // "db FILE" or the trace file
};

// A trace's samples (one file, any number of cgroups) as one series per
// cgroup path, named `name` (or `name:cgroup` when the file holds several):
// the working set at each sample, an OOM kill wherever the ev_oom_kill
// counter rose between two samples (at the limit then, or the larger usage
// when there is none), the last sample's limit as the current one (none
// when unlimited), the request unknown. Pure.
std::vector<BacktestSeries> series_from_samples(std::vector<sampler::Sample> samples, const std::string& name,
                                                const std::string& source);

// Reads a trace file (CSV or JSONL, store/samplefile.hpp).
Result<std::vector<BacktestSeries>> read_trace(const std::string& path);

// The history database's cgroups over [now - window, now] (q.window_ns is
// the span read, not the rules' window): each cgroup's points, the current
// limit and request as `recommend` finds them, named as it names them.
Result<std::vector<BacktestSeries>> gather_backtest_series(const RecommendQuery& q, const RecommendSources& src,
                                                           const std::string& db_path);

}  // namespace ow::advisor
