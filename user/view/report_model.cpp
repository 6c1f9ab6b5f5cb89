// Choosing what a report shows: see report_model.hpp.
#include "view/report_model.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "util/units.hpp"

namespace ow::view {
namespace {

// "4m12s", "3h05m", "40s": a window's length to the second.
std::string span_text(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  char buf[48];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%llds", (long long)s);
  return buf;
}

}  // namespace

std::vector<std::string> choose_cgroups(const stats::StatsByCgroup& stats, size_t n) {
  std::vector<std::pair<uint64_t, std::string>> v;
  for (const auto& [path, w] : stats) v.emplace_back(w.max_bytes, path);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (n && v.size() > n) v.resize(n);
  std::vector<std::string> out;
  for (auto& [m, p] : v) out.push_back(std::move(p));
  return out;
}

int64_t chart_slot_ns(int64_t from_ns, int64_t to_ns, size_t max_points, int64_t min_ns) {
  int64_t span = to_ns > from_ns ? to_ns - from_ns : 0;
  int64_t pts = static_cast<int64_t>(std::max<size_t>(1, max_points));
  int64_t slot = span / pts + 1;  // +1: (to - from) / slot < pts, so at most pts slots
  return std::max({slot, min_ns, int64_t{1}});
}

size_t ReportCgroup::kill_count() const {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(), [](const Event& e) {
    return e.kind == "oom_kill" && e.source != "audit";
  }));
}

void attach_events(ReportData& d, const std::vector<Event>& audit) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < d.cgroups.size(); ++i) {
    auto& c = d.cgroups[i];
    index[c.path] = i;
    for (const auto& k : c.kills)
      c.events.push_back(Event{k.ts_ns, c.path, "oom_kill",
                               "OOM kill at " + format_size(k.usage_bytes) + " of " + format_size(k.limit_bytes) +
                                   (k.memsw ? " (memory+swap)" : "") + ", pid " + std::to_string(k.pid) +
                                   (k.victim == c.path ? "" : " in " + k.victim),
                               "kernel"});
    if (c.kills.empty())
      for (int64_t ts : c.series.oom_kill_ts_ns) c.events.push_back(Event{ts, c.path, "oom_kill", "OOM kill", "counters"});
  }
  for (const auto& e : audit) {
    auto it = index.find(e.cgroup);
    if (it == index.end()) d.other_events.push_back(e);
    else d.cgroups[it->second].events.push_back(e);
  }
  for (auto& c : d.cgroups)
    std::stable_sort(c.events.begin(), c.events.end(), [](const Event& a, const Event& b) { return a.ts_ns < b.ts_ns; });
}

FittedWindow fit_window(const stats::StatsByCgroup& stats, const stats::TimeRange& asked, bool fit_from, bool fit_to) {
  FittedWindow f{asked, ""};
  if (stats.empty() || (!fit_from && !fit_to)) return f;
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const auto& [p, w] : stats) {
    first = std::min(first, w.first_ts_ns);
    last = std::max(last, w.last_ts_ns);
  }
  if (fit_from && first > f.range.from_ns) f.range.from_ns = first;
  if (fit_to && last < f.range.to_ns && last >= f.range.from_ns) f.range.to_ns = last;
  if (f.range.from_ns == asked.from_ns && f.range.to_ns == asked.to_ns) return f;
  f.note = "the " + span_text(f.range.to_ns - f.range.from_ns) + " the history covers (of the last " +
           span_text(asked.to_ns - asked.from_ns) + "; --from/--to choose another window)";
  return f;
}

}  // namespace ow::view
