// What one `report --html` shows, gathered by the command and rendered by
// report_html: the window, the chosen cgroups with their chart series,
// window statistics, newest recommendation and events. Pure helpers pick the
// cgroups (--top N by peak usage) and the chart slot (<= max_points per series).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stats/window.hpp"
#include "store/history.hpp"
#include "view/model.hpp"

namespace ow::view {

inline constexpr size_t kDefaultMaxPoints = 500;

struct ReportCgroup {
  std::string path;
  store::ChartSeries series;
  std::optional<stats::WindowStats> stats;
  std::optional<store::RecommendationRow> recommendation;
  std::vector<Event> events;  // audit decisions about it, and OOM kills from its counters
};

struct ReportData {
  int64_t from_ns = 0, to_ns = 0, generated_ns = 0;
  std::string db_path, audit_note;  // audit_note: "FILE", "FILE (missing)", "none"
  size_t total_cgroups = 0;         // with samples in the window, before --top
  std::vector<ReportCgroup> cgroups;
  std::vector<Event> other_events;  // audit lines about cgroups not charted
};

// The top n paths by max usage in the window (ties by path); n 0: all.
std::vector<std::string> choose_cgroups(const stats::StatsByCgroup& stats, size_t n);

// Slot width so that [from, to] has at most max_points slots, never below
// min_ns (the sampling interval gains nothing finer).
int64_t chart_slot_ns(int64_t from_ns, int64_t to_ns, size_t max_points, int64_t min_ns);

// Each event to its cgroup's events (OOM kills from the series counters are
// added as "oom_kill" events from "counters"); the rest to other_events.
void attach_events(ReportData& d, const std::vector<Event>& audit);

}  // namespace ow::view
