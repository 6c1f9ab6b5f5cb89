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

// What `recommend` gives for the cgroup over the report's window.
struct ReportRecommendation {
  uint64_t request_bytes = 0, limit_bytes = 0;
  std::string confidence, rationale;
};

struct ReportCgroup {
  std::string path;
  store::ChartSeries series;
  std::optional<stats::WindowStats> stats;
  std::optional<ReportRecommendation> recommendation;     // computed now, as `recommend` does
  std::optional<store::RecommendationRow> stored;         // the agent's newest stored one
  std::vector<store::KillRow> kills;                      // at its limit, from the kernel's events
  std::vector<Event> events;  // audit decisions about it, and its OOM kills
  size_t kill_count() const;  // events of kind oom_kill that are not audit lines
};

struct ReportData {
  int64_t from_ns = 0, to_ns = 0, generated_ns = 0;
  std::string window_note;  // how the window was chosen, when it was not given
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

// Each event to its cgroup's events; its OOM kills are added as "oom_kill"
// events, from the kernel's events (source "kernel") when there are any for
// it, else from its samples' counters ("counters"); the rest to other_events.
void attach_events(ReportData& d, const std::vector<Event>& audit);

// The window a report shows when --from (and --to) were left to their
// defaults: what the history covers inside `asked` (at most its 24 h), so a
// few minutes of history fill the charts instead of one slot at the edge.
// The note says what was chosen ("" when nothing changed).
struct FittedWindow {
  stats::TimeRange range;
  std::string note;
};
FittedWindow fit_window(const stats::StatsByCgroup& stats, const stats::TimeRange& asked, bool fit_from, bool fit_to);

}  // namespace ow::view
