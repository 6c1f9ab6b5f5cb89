// Choosing what a report shows: see report_model.hpp.
#include "view/report_model.hpp"

#include <algorithm>
#include <map>

namespace ow::view {

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

void attach_events(ReportData& d, const std::vector<Event>& audit) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < d.cgroups.size(); ++i) {
    index[d.cgroups[i].path] = i;
    for (int64_t ts : d.cgroups[i].series.oom_kill_ts_ns)
      d.cgroups[i].events.push_back(Event{ts, d.cgroups[i].path, "oom_kill", "OOM kill", "counters"});
  }
  for (const auto& e : audit) {
    auto it = index.find(e.cgroup);
    if (it == index.end()) d.other_events.push_back(e);
    else d.cgroups[it->second].events.push_back(e);
  }
  for (auto& c : d.cgroups)
    std::stable_sort(c.events.begin(), c.events.end(), [](const Event& a, const Event& b) { return a.ts_ns < b.ts_ns; });
}

}  // namespace ow::view
