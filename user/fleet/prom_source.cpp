#include "fleet/prom_source.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include "fleet/aggregate.hpp"

namespace ow::fleet {
namespace {

std::string owner_matcher(const FleetQuery& q) {
  if (q.owner.empty()) return "";
  std::string v;
  for (char ch : q.owner) {
    if (ch == '\\' || ch == '"') v += '\\';
    v += ch;
  }
  return q.labels.owner + "=\"" + v + "\"";
}

// The query_range of expr over the last span_ms before end (default: the
// window), split as needed, series merged by labels.
Result<std::vector<Series>> range(PromClient& c, const FleetQuery& q, const std::string& expr, int& count,
                                  int64_t span_ms = 0) {
  std::map<Labels, Series> merged;
  int64_t start = q.end_ms - (span_ms > 0 ? span_ms : q.window_ms) + q.step_ms;
  for (auto [s, e] : split_range(start, q.end_ms, q.step_ms, q.max_points)) {
    ++count;
    auto r = c.query_range(expr, s, e, q.step_ms);
    if (!r) return r.error();
    for (auto& x : *r) {
      Series& m = merged[x.labels];
      m.labels = x.labels;
      // The first part of a series is moved, not copied: an answer's points
      // are held once.
      if (m.points.empty())
        m.points = std::move(x.points);
      else
        m.points.insert(m.points.end(), x.points.begin(), x.points.end());
    }
  }
  std::vector<Series> out;
  for (auto& [l, s] : merged) out.push_back(std::move(s));
  return out;
}

std::string over_step(const std::string& metric, const std::string& m, int64_t step_ms) {
  return "max_over_time(" + metric + "{" + m + "}[" + prom_duration(step_ms - 1) + "])";
}

}  // namespace

std::string matchers(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts)
    if (!p.empty()) s += (s.empty() ? "" : ",") + p;
  return s;
}

int64_t default_step_ms(int64_t window_ms, int64_t max_points) {
  int64_t step = 30'000;
  int64_t need = (window_ms + max_points - 2) / (max_points - 1);  // window / step + 1 <= max_points
  if (need > step) step = (need + 999) / 1000 * 1000;
  return step;
}

std::vector<std::pair<int64_t, int64_t>> split_range(int64_t start_ms, int64_t end_ms, int64_t step_ms, int64_t max_points) {
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t span = step_ms * (std::max<int64_t>(max_points, 1) - 1);
  for (int64_t s = start_ms; s <= end_ms; s += span + step_ms) out.push_back({s, std::min(end_ms, s + span)});
  return out;
}

std::map<Key, int64_t> last_changes(const std::vector<std::pair<Key, const Series*>>& series) {
  std::map<Key, std::map<int64_t, double>> pooled;
  for (const auto& [k, s] : series)
    for (const auto& p : s->points) {
      auto [it, fresh] = pooled[k].emplace(p.ts_ms, p.value);
      if (!fresh) it->second = std::max(it->second, p.value);
    }
  std::map<Key, int64_t> out;
  for (const auto& [k, by_t] : pooled) {
    std::optional<double> prev;
    for (const auto& [t, v] : by_t) {
      if (prev && v != *prev) out[k] = t;
      prev = v;
    }
  }
  return out;
}

Result<FleetData> fetch_fleet(PromClient& c, const FleetQuery& q) {
  FleetData d;
  std::string own = owner_matcher(q);
  const std::string ctr = q.labels.container;
  // The working set and RSS carry the owner label (when relabelled onto
  // cAdvisor's series); kube-state-metrics and Knative's series need not, so
  // they are asked without it and joined by pod to the working set's keys.
  std::string cm = matchers({ctr + "!=\"\"", ctr + "!=\"POD\"", q.selector, own});
  std::string am = matchers({ctr + "!=\"\"", ctr + "!=\"POD\"", q.selector});
  std::string win = prom_duration(q.window_ms);

  auto ws = range(c, q, over_step(q.metrics.working_set, cm, q.step_ms), d.range_queries);
  if (!ws) return ws.error();
  auto rss = range(c, q, over_step(q.metrics.rss, cm, q.step_ms), d.range_queries);
  if (!rss) return rss.error();
  // Ownership decides the keys the series are pooled under; a cluster
  // without these series (no error) falls back to the owner label and names.
  std::vector<Series> owner_answers[2];
  int i = 0;
  for (const std::string* metric : {&q.metrics.pod_owner, &q.metrics.replicaset_owner}) {
    auto r = c.query("last_over_time(" + *metric + "{" + q.selector + "}[" + win + "])", q.end_ms);
    if (!r) return r.error();
    owner_answers[i++] = std::move(*r);
  }
  d.owners = owner_tables(owner_answers[0], owner_answers[1], q.labels.ns, q.labels.pod);
  d.ws = group_series(*ws, q.labels, true, &d.owners);
  if (d.ws.empty())
    return usage_error("Prometheus has no " + q.metrics.working_set + " series for {" + cm + "} in the " +
                       prom_duration(q.window_ms) + " window ending at " + prom_time(q.end_ms));
  d.rss = group_series(*rss, q.labels, true, &d.owners);

  // (namespace, pod, container) -> the key its working set was pooled under.
  using PodCtr = std::tuple<std::string, std::string, std::string>;
  std::map<PodCtr, Key> keys;
  auto label = [&](const Labels& l, const std::string& n) {
    auto it = l.find(n);
    return it == l.end() ? std::string() : it->second;
  };
  auto pod_ctr = [&](const Labels& l, bool with_container) {
    return PodCtr{label(l, q.labels.ns), label(l, q.labels.pod), with_container ? label(l, ctr) : ""};
  };
  for (const auto& s : *ws)
    if (auto k = series_key(s.labels, q.labels, true, &d.owners)) {
      keys[pod_ctr(s.labels, true)] = k->key;
      keys[pod_ctr(s.labels, false)] = Key{k->key.ns, k->key.workload, ""};
    }
  auto key_of = [&](const Labels& l, bool with_container) -> const Key* {
    auto it = keys.find(pod_ctr(l, with_container));
    return it == keys.end() ? nullptr : &it->second;
  };

  for (auto [metric, out] : {std::pair{&q.metrics.requests, &d.requests}, std::pair{&q.metrics.limits, &d.limits}}) {
    auto r = c.query("last_over_time(" + *metric + "{" + matchers({q.metrics.resource_match, am}) + "}[" + win + "])",
                     q.end_ms);
    if (!r) return r.error();
    for (const auto& s : *r) {
      const Key* k = key_of(s.labels, true);
      if (!k || s.points.empty()) continue;
      auto [it, fresh] = out->emplace(*k, s.points.back().value);
      if (!fresh) it->second = std::max(it->second, s.points.back().value);
    }
  }
  // Revisions: the request and limit over the cooldown, for when they last changed.
  if (q.cooldown_ms > 0) {
    const int64_t span = std::min(q.cooldown_ms, q.window_ms);
    for (const std::string* metric : {&q.metrics.requests, &q.metrics.limits}) {
      auto r = range(c, q, over_step(*metric, matchers({q.metrics.resource_match, am}), q.step_ms), d.range_queries, span);
      if (!r) return r.error();
      std::vector<std::pair<Key, const Series*>> keyed;
      for (const auto& s : *r)
        if (const Key* k = key_of(s.labels, true)) keyed.push_back({*k, &s});
      for (const auto& [k, t] : last_changes(keyed)) d.revised_ms[k] = std::max(d.revised_ms[k], t);
    }
  }

  const std::string& om = q.metrics.oom;
  bool counter = om.size() > 6 && om.compare(om.size() - 6, 6, "_total") == 0;
  std::string sel = "{" + matchers({counter ? "" : q.metrics.oom_match, am}) + "}[" + win + "]";
  auto oom = c.query((counter ? "increase(" : "max_over_time(") + om + sel + ") > 0", q.end_ms);
  if (!oom) return oom.error();
  // used at the kill: the killed pod's own largest working set in the window
  // (a kill comes at the top of its usage).
  for (const auto& k : *oom) {
    const Key* key = key_of(k.labels, true);
    if (!key) continue;
    PodCtr killed = pod_ctr(k.labels, true);
    uint64_t used = 0;
    for (const auto& s : *ws) {
      if (pod_ctr(s.labels, true) != killed) continue;
      for (const auto& p : s.points) used = std::max(used, bytes_of(p.value));
    }
    if (used) d.oom_used[*key] = std::max(d.oom_used[*key], used);
  }

  if (q.knative) {
    std::string km = matchers({q.selector});
    for (auto [metric, out] : {std::pair{&q.metrics.concurrency, &d.concurrency},
                               std::pair{&q.metrics.queue_depth, &d.queue_depth}}) {
      auto r = range(c, q, over_step(*metric, km, q.step_ms), d.range_queries);
      if (!r) return r.error();
      for (const auto& s : *r)
        if (const Key* k = key_of(s.labels, false))
          for (const auto& p : s.points) (*out)[*k].push_back(p.value);
    }
  }
  return d;
}

}  // namespace ow::fleet
