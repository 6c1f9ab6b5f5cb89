#include "advisor/replay_gather.hpp"

#include <algorithm>
#include <map>

#include "advisor/history_facts.hpp"
#include "advisor/kills.hpp"
#include "util/units.hpp"

namespace ow::advisor {
namespace {

std::string from_text(const std::string& from) { return from.empty() ? "unknown" : from; }

}  // namespace

Result<PointsByCgroup> read_points(const RecommendQuery& q, const RecommendSources& src) {
  stats::TimeRange range{q.now_ns - q.window_ns, q.now_ns};
  PointsByCgroup out;
  auto& pts = out.points;
  std::map<std::string, int64_t> first_raw;
  RawFactsFold kills;  // each point's usage at a kill, from the cgroup's previous sample
  // The points only (24 bytes a sample), never the raw samples as a list.
  auto st = src.history->for_each_raw_sample(range, q.selectors, [&](const sampler::Sample& s) {
    auto [fr, fresh] = first_raw.emplace(s.cgroup, s.ts_ns);
    if (!fresh) fr->second = std::min(fr->second, s.ts_ns);
    pts[s.cgroup].push_back({s.ts_ns, s.working_set_bytes, kills.add(s)});
  });
  if (!st) return st.error();
  auto buckets = src.history->buckets(range, q.selectors);
  if (!buckets) return buckets.error();
  // Kills as the kernel reported them: points of their own, at the usage
  // when the kernel killed; the counter's guess from the samples around a
  // kill is dropped for a cgroup that has them.
  auto kill_rows = src.history->kills(range, q.selectors);
  if (!kill_rows) return kill_rows.error();
  std::map<std::string, uint64_t> recorded;
  for (const auto& k : *kill_rows) {
    if (k.path.empty()) continue;
    if (recorded[k.path]++ == 0)
      if (auto p = pts.find(k.path); p != pts.end())
        for (auto& x : p->second) x.oom_used_bytes = 0;
    uint64_t reached = k.limit_bytes && k.limit_bytes != kUnlimited ? std::max(k.limit_bytes, k.usage_bytes) : k.usage_bytes;
    pts[k.path].push_back({k.ts_ns, reached, k.usage_bytes, true});
  }
  for (const auto& [path, b] : *buckets) {
    auto f = first_raw.find(path);
    if (!b.has_ws || (f != first_raw.end() && b.start_ns >= f->second)) continue;
    pts[path].push_back({b.start_ns, b.ws_max_bytes, 0});
    ++out.from_buckets[path];
  }
  for (auto& [path, p] : pts)
    std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.ts_ns < b.ts_ns; });
  return out;
}

Result<std::vector<recommend::ReplayReport>> gather_replays(const RecommendQuery& q, const RecommendSources& src) {
  auto reports = gather_recommendations(q, src);
  if (!reports) return reports.error();
  stats::TimeRange range{q.now_ns - q.window_ns, q.now_ns};
  auto read = read_points(q, src);
  if (!read) return read.error();
  auto& pts = read->points;
  auto& from_buckets = read->from_buckets;

  std::vector<recommend::ReplayReport> out;
  for (const auto& r : *reports) {
    auto& p = pts[r.cgroup];
    if (p.empty()) continue;
    recommend::ReplayReport rr;
    rr.cgroup = r.cgroup;
    rr.name = r.name;
    rr.from_ns = range.from_ns;
    rr.to_ns = range.to_ns;
    rr.points = std::count_if(p.begin(), p.end(), [](const auto& x) { return !x.kill; });
    rr.bucket_points = from_buckets[r.cgroup];
    rr.recorded_kills = r.input.oom_kills;
    rr.seed = {r.rec.request_bytes, r.rec.limit_bytes, recommend::replay(p, r.rec.request_bytes, r.rec.limit_bytes),
               r.rec.rationale};
    rr.current.request_bytes = r.current.request_bytes;
    rr.current.limit_bytes = r.current.limit_bytes;
    if (r.current.limit_bytes == kUnlimited) rr.current.limit_bytes.reset();
    // VPA keeps the current limit/request ratio; no limit now, none from it
    // (its row is then replayed against no limit: no OOM episode).
    auto v = recommend::vpa_rule(p, r.current.request_bytes, rr.current.limit_bytes, range.to_ns);
    rr.vpa = {v.target_bytes, v.limit_bytes, recommend::replay(p, v.target_bytes, v.limit_bytes.value_or(kUnlimited)),
              v.rationale};
    rr.current.rationale = "limit from " + from_text(r.limit_from) + ", request from " + from_text(r.request_from);
    if (r.current.limit_bytes)
      rr.current.result = recommend::replay(p, r.current.request_bytes.value_or(kUnlimited), *r.current.limit_bytes);
    out.push_back(std::move(rr));
  }
  return out;
}

}  // namespace ow::advisor
