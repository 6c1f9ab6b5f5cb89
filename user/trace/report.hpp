// The report of a charge trace: processes ordered by net growth, as text
// lines or one JSON object (with a timeline per interval). Pure: no I/O.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trace/usage.hpp"

namespace ow::trace {

struct TimelinePoint {
  double t_s = 0;  // seconds since the start
  Totals totals;   // cumulative at t_s
};

struct TraceResult {
  Method method = Method::Tracepoints;
  std::string cgroup;        // as given, relative to the memory hierarchy
  std::string mode;          // "tp_btf", "raw_tp" or "" (proc sampling)
  std::string note;          // why the method is what it is ("" when as asked)
  double duration_s = 0;     // measured
  std::array<bool, kKinds> kinds_measured{};  // proc sampling: anon, file, shmem only
  Totals totals;             // at the end
  std::vector<TimelinePoint> timeline;
  uint64_t events = 0;       // tracepoint hits counted (0 for proc sampling)
  uint64_t drops = 0;        // hits lost (map full) or processes not readable
  std::string stopped_by;    // "duration", "signal", "cgroup removed"
};

struct Row {
  ProcUsage usage;
  int64_t net = 0;       // bytes
  double rate_bps = 0;   // net / duration
  double share = 0;      // net / sum of the positive nets (0..1; 0 when none grew)
};

// Every process with any charge, by net growth (largest first, then tgid),
// cut to `top` (0: all).
std::vector<Row> top_rows(const Totals& t, double duration_s, size_t top);

// Difference of two cumulative totals (later - earlier), per process.
Totals delta(const Totals& later, const Totals& earlier);

nlohmann::ordered_json to_json(const TraceResult& r, size_t top);
std::vector<std::string> to_text(const TraceResult& r, size_t top);

}  // namespace ow::trace
