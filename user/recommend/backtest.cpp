#include "recommend/backtest.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "recommend/gate.hpp"
#include "recommend/quantity.hpp"
#include "stats/quantile.hpp"
#include "util/units.hpp"

namespace ow::recommend {
namespace {

constexpr int64_t kMaxSteps = 100'000;
// A longer time between two samples is a gap in the recording (the agent
// was stopped), not a sample that held.
constexpr int64_t kMaxFillNs = 3600LL * 1'000'000'000;

// One policy's running state: what it has in force, what it has seen.
struct PolicyRun {
  std::optional<uint64_t> request, limit;
  std::vector<BtPoint> seen;      // the samples capped at the limit in force then
  std::vector<VpaSample> vpa_seen;  // the same, for the VPA model
  std::vector<BtKill> kills;      // its would-be kills (and recorded ones at or above its limit), at its limit
  std::vector<VpaOom> vpa_kills;
  bool in_episode = false;
  std::optional<int64_t> last_change_ns;
  PolicyScore score;

  void kill_at(int64_t ts) {
    uint64_t used = limit.value_or(0);
    kills.push_back({ts, used});
    vpa_kills.push_back({ts, used, request});
    ++score.oom_episodes;
  }
  // metrics_ns: VPA's feeder takes the working set once a metrics interval,
  // so a sample that holds longer stands for one each interval until the
  // next (the confidence counts them).
  void sample(const BtPoint& p, int64_t hold_ns, uint32_t near_pm, int64_t metrics_ns) {
    if (limit && *limit != kUnlimited) {
      uint64_t lim = *limit;
      bool above = p.ws_bytes > lim;
      if (above && !in_episode) kill_at(p.ts_ns);
      in_episode = above;
      if (static_cast<unsigned __int128>(p.ws_bytes) * 1000 >= static_cast<unsigned __int128>(lim) * near_pm)
        score.near_ns += hold_ns;
      if (lim > p.ws_bytes) score.waste_byte_ns += static_cast<unsigned __int128>(lim - p.ws_bytes) * static_cast<uint64_t>(hold_ns);
    }
    uint64_t seen_ws = limit ? std::min(p.ws_bytes, *limit) : p.ws_bytes;
    seen.push_back({p.ts_ns, seen_ws});
    vpa_seen.push_back({p.ts_ns, seen_ws});
    if (metrics_ns > 0 && hold_ns <= kMaxFillNs)
      for (int64_t d = metrics_ns; d < hold_ns; d += metrics_ns) vpa_seen.push_back({p.ts_ns + d, seen_ws});
  }
  void recorded_kill(const BtKill& k) {
    if (!limit || *limit == kUnlimited || k.used_bytes < *limit) return;  // more room: this one would have held
    if (!in_episode) kill_at(k.ts_ns);
    in_episode = true;
  }
  void set(std::optional<uint64_t> req, std::optional<uint64_t> lim, int64_t ts, BtSetting& out) {
    if (req != request || lim != limit) {
      ++score.changes;
      last_change_ns = ts;
      out.changed = true;
      // A restart: an episode under the old limit does not carry over.
      in_episode = false;
    }
    request = req;
    limit = lim;
    out.request_bytes = request;
    out.limit_bytes = limit;
  }
};

// a - b, saturating: a window longer than the time since the epoch starts at INT64_MIN.
int64_t sub_sat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? INT64_MIN : r;
}

WindowFigures bt_window_figures(std::span<const BtPoint> seen, int64_t from, int64_t to, int64_t window_ns) {
  auto lo = std::lower_bound(seen.begin(), seen.end(), from, [](const BtPoint& p, int64_t t) { return p.ts_ns < t; });
  auto hi = std::lower_bound(seen.begin(), seen.end(), to, [](const BtPoint& p, int64_t t) { return p.ts_ns < t; });
  WindowFigures f;
  f.window_ns = window_ns;
  if (lo == hi) return f;
  std::vector<uint64_t> v;
  v.reserve(static_cast<size_t>(hi - lo));
  unsigned __int128 sum = 0;
  for (auto it = lo; it != hi; ++it) {
    v.push_back(it->ws_bytes);
    sum += it->ws_bytes;
  }
  std::sort(v.begin(), v.end());
  f.samples = v.size();
  f.ws_avg_bytes = static_cast<uint64_t>((sum + v.size() / 2) / v.size());
  f.ws_p95_bytes = stats::quantile_sorted(v, stats::kP95Pct);
  f.ws_max_bytes = v.back();
  f.covered_ns = (hi - 1)->ts_ns - lo->ts_ns;
  return f;
}

void step_rules(PolicyRun& run, int64_t t, const BacktestOptions& o, BtSetting& out) {
  out.request_bytes = run.request;
  out.limit_bytes = run.limit;
  Input in;
  int64_t long_from = sub_sat(t, o.window_ns);
  in.long_window = bt_window_figures(run.seen, long_from, t, o.window_ns);
  if (in.long_window.samples == 0) return;  // a gap in the data: nothing to decide on
  int64_t short_ns = std::min(o.short_window_ns, o.window_ns);
  if (auto s = bt_window_figures(run.seen, sub_sat(t, short_ns), t, short_ns); s.samples) in.short_window = s;
  for (const auto& k : run.kills)
    if (k.ts_ns >= long_from && k.ts_ns < t) {
      ++in.oom_kills;
      in.oom_used_bytes = k.used_bytes;
    }
  Recommendation rec = recommend(in, o.rules);
  Current cur{run.request, run.limit.value_or(kUnlimited)};
  if (decide(cur, rec, run.last_change_ns, t, o.rules).propose) run.set(rec.request_bytes, rec.limit_bytes, t, out);
}

void step_vpa(PolicyRun& run, int64_t t, const BacktestOptions& o, BtSetting& out) {
  out.request_bytes = run.request;
  out.limit_bytes = run.limit;
  if (run.vpa_seen.empty()) return;
  VpaContainer c{"pod", "c", run.vpa_seen, run.vpa_kills, run.request, run.limit};
  auto r = vpa_model(std::span(&c, 1), t, o.vpa);
  if (!r.ok() || r->empty()) return;  // options were checked; no sample before t gives none
  const VpaRecommendation& v = r->front();
  // The updater: a pod whose request lies inside the bounds keeps it.
  if (run.request && *run.request >= v.lower.bytes && *run.request <= v.upper.bytes) return;
  run.set(v.target.bytes, v.limit_bytes, t, out);
}

}  // namespace

double PolicyScore::waste_gib_hours() const {
  return static_cast<double>(waste_byte_ns) / (static_cast<double>(kGi) * 3600e9);
}

PolicyScore& PolicyScore::operator+=(const PolicyScore& o) {
  oom_episodes += o.oom_episodes;
  changes += o.changes;
  if (__builtin_add_overflow(near_ns, o.near_ns, &near_ns)) near_ns = INT64_MAX;
  waste_byte_ns += o.waste_byte_ns;
  return *this;
}

std::string check_backtest_options(const BacktestOptions& o) {
  if (o.step_ns <= 0) return "the step must be positive";
  if (o.window_ns <= 0 || o.short_window_ns <= 0) return "the windows must be positive";
  if (o.near_pm == 0 || o.near_pm > 1000) return fmt::format("near-limit fraction {} ‰ is not in (0, 1000]", o.near_pm);
  if (auto bad = check_rules(o.rules); !bad.empty()) return bad;
  return vpa_check_options(o.vpa);
}

Result<BacktestResult> backtest(const BtSeries& s, const BacktestOptions& o) {
  if (auto bad = check_backtest_options(o); !bad.empty()) return usage_error("backtest: " + bad);
  const auto& pts = s.points;
  if (pts.empty()) return usage_error(s.name + ": no working-set sample");
  for (size_t i = 1; i < pts.size(); ++i)
    if (pts[i].ts_ns < pts[i - 1].ts_ns) return usage_error(s.name + ": samples out of time order");
  for (size_t i = 1; i < s.kills.size(); ++i)
    if (s.kills[i].ts_ns < s.kills[i - 1].ts_ns) return usage_error(s.name + ": OOM kills out of time order");
  int64_t first = pts.front().ts_ns, last = pts.back().ts_ns;
  if (last - first < o.step_ns)
    return usage_error(fmt::format("{}: the series spans {}, less than one step ({}): nothing to score out of sample",
                                   s.name, duration_text(last - first), duration_text(o.step_ns)));
  if ((last - first) / o.step_ns > kMaxSteps)
    return usage_error(fmt::format("{}: {} steps of {} over {}: at most {}; take a longer step", s.name,
                                   (last - first) / o.step_ns, duration_text(o.step_ns), duration_text(last - first),
                                   kMaxSteps));

  BacktestResult res;
  res.name = s.name;
  res.samples = pts.size();
  res.recorded_kills = s.kills.size();
  res.from_ns = first + o.step_ns;
  res.to_ns = last;
  // Everyone starts from what is in force now; an unknown request is taken as the limit.
  std::optional<uint64_t> req0 = s.request_bytes ? s.request_bytes : s.limit_bytes;
  PolicyRun rules, vpa, fixed;
  for (PolicyRun* r : {&rules, &vpa, &fixed}) {
    r->request = req0;
    r->limit = s.limit_bytes;
  }
  size_t pi = 0, ki = 0;
  // Feeds the samples and recorded kills before `until` (kills after the samples of the same instant).
  auto feed = [&](int64_t until, bool scored) {
    while (pi < pts.size() || ki < s.kills.size()) {
      bool take_kill = ki < s.kills.size() && (pi >= pts.size() || s.kills[ki].ts_ns < pts[pi].ts_ns);
      int64_t ts = take_kill ? s.kills[ki].ts_ns : pts[pi].ts_ns;
      if (ts >= until) break;
      for (PolicyRun* r : {&rules, &vpa, &fixed}) {
        if (take_kill) {
          PolicyScore keep = r->score;
          r->recorded_kill(s.kills[ki]);
          if (!scored) r->score = keep;
        } else {
          int64_t hold = pi + 1 < pts.size() ? pts[pi + 1].ts_ns - pts[pi].ts_ns : 0;
          PolicyScore keep = r->score;
          r->sample(pts[pi], hold, o.near_pm, r == &vpa ? o.vpa.metrics_interval_ns : 0);
          if (!scored) r->score = keep;
        }
      }
      take_kill ? ++ki : ++pi;
    }
  };
  feed(res.from_ns, false);  // the warm-up: seen, not scored
  for (int64_t t = res.from_ns, next = 0; t <= last; t = next) {
    if (__builtin_add_overflow(t, o.step_ns, &next)) next = INT64_MAX;
    BtStep st;
    st.ts_ns = t;
    step_rules(rules, t, o, st.rules);
    step_vpa(vpa, t, o, st.vpa);
    for (auto [run, set] : {std::pair{&rules, &st.rules}, std::pair{&vpa, &st.vpa}}) {
      if (!run->score.first_limit_bytes) run->score.first_limit_bytes = set->limit_bytes.value_or(kUnlimited);
      run->score.last_limit_bytes = set->limit_bytes.value_or(kUnlimited);
    }
    res.steps.push_back(st);
    // The last step is scored to the last sample inclusive.
    feed(next > last ? INT64_MAX : next, true);
    if (next == INT64_MAX) break;
  }
  fixed.score.first_limit_bytes = fixed.score.last_limit_bytes = s.limit_bytes.value_or(kUnlimited);
  res.rules = rules.score;
  res.vpa = vpa.score;
  res.fixed = fixed.score;
  return res;
}

}  // namespace ow::recommend
