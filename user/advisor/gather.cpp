#include "advisor/gather.hpp"

#include <algorithm>
#include <map>

#include "advisor/history_facts.hpp"
#include "advisor/kills.hpp"
#include "gomemlimit/calc.hpp"
#include "gomemlimit/inputs.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::advisor {
namespace {

// kubelet's MemoryQoS writes the request as v2 memory.min; 0 says nothing.
std::optional<uint64_t> memory_min(const cg::Hierarchy& h, const std::string& rel) {
  if (h.version() != cg::Version::V2) return std::nullopt;
  auto t = read_text(h.abs(rel) + "/memory.min");
  uint64_t v = 0;
  if (!t || !parse_u64(trim(*t), v) || v == 0) return std::nullopt;
  return v;
}

// The hint a Go program in rel would get were rel's own limit `limit`: the
// same arithmetic and inputs as `oomwatch gomemlimit` (eBPF memory not
// measured here), an ancestor's lower limit still counting.
std::optional<uint64_t> hint_at(const cg::Hierarchy& h, const std::string& rel, uint64_t limit) {
  auto in = gomemlimit::read_inputs(h, rel);
  if (!in || in->levels.empty()) return std::nullopt;
  in->levels.front().limit_bytes = limit;
  auto b = gomemlimit::compute(*in, {});
  if (!b.ok) return std::nullopt;
  return b.gomemlimit_bytes;
}

// Anonymous memory in rel and below it now, which no reclaim frees without
// swap: v1 total_rss, v2 anon (both hierarchical); nullopt when unreadable or 0.
std::optional<uint64_t> anon_now(const cg::Hierarchy& h, const std::string& rel) {
  auto st = h.stat(rel);
  if (!st) return std::nullopt;
  auto it = st->find(h.version() == cg::Version::V1 ? "total_rss" : "anon");
  if (it == st->end() || it->second == 0) return std::nullopt;
  return it->second;
}

}  // namespace

Result<std::vector<recommend::Report>> gather_recommendations(const RecommendQuery& q, const RecommendSources& src) {
  int64_t short_ns = std::min(q.short_window_ns, q.window_ns);
  stats::TimeRange lr{q.now_ns - q.window_ns, q.now_ns}, sr{q.now_ns - short_ns, q.now_ns};
  auto lw = src.history->window_stats(lr, q.selectors, q.use_buckets);
  if (!lw) return lw.error();
  auto sw = src.history->window_stats(sr, q.selectors, q.use_buckets);
  if (!sw) return sw.error();
  RawFactsFold fold;
  if (auto st = src.history->for_each_raw_sample(lr, q.selectors, [&](const sampler::Sample& s) { fold.add(s); }); !st)
    return st.error();
  const auto facts = fold.facts();
  auto kill_rows = src.history->kills(lr, q.selectors);
  if (!kill_rows) return kill_rows.error();
  const auto kills = kill_facts(*kill_rows);

  std::vector<recommend::Report> out;
  const bool root_asked = std::find(q.selectors.begin(), q.selectors.end(), "/") != q.selectors.end();
  for (const auto& [path, w] : lw->stats) {
    if (w.ws_samples == 0) continue;  // recorded before the working set was
    if (path == "/" && !root_asked) continue;  // the root takes no limit: only when named
    recommend::Report r;
    r.cgroup = path;
    r.name = path;
    r.input.long_window = figures(w, q.window_ns);
    if (auto s = sw->stats.find(path); s != sw->stats.end() && s->second.ws_samples)
      r.input.short_window = figures(s->second, short_ns);
    static const RawFacts kNone;
    auto fi = facts.find(path);
    const RawFacts& f = fi == facts.end() ? kNone : fi->second;
    auto ki = kills.find(path);
    auto kf = kill_figures(ki == kills.end() ? nullptr : &ki->second, f);
    r.input.oom_used_bytes = kf.used_bytes;
    r.input.oom_kills = kf.kills;
    if (kf.from) r.oom_from = kf.from;

    std::optional<k8s::Named> named;
    if (src.names) named = k8s::name_cgroup(path, *src.names);
    if (named) {
      r.name = k8s::display_name(*named);
      r.kube = recommend::KubeName{named->ns, named->pod, named->container, named->id.pod_uid, named->id.container_id,
                                   named->id.qos};
    }
    if (src.hierarchy)
      if (auto lim = src.hierarchy->limit(path)) {
        r.current.limit_bytes = *lim;
        r.limit_from = "cgroup";
      }
    if (!r.current.limit_bytes && f.last_limit) {
      r.current.limit_bytes = *f.last_limit;
      r.limit_from = "history";
    }
    if (src.pods && named && !named->container.empty())
      if (auto p = src.pods->find({named->id.pod_uid, named->container}); p != src.pods->end() && p->second.request_bytes) {
        r.current.request_bytes = p->second.request_bytes;
        r.request_from = "pods file";
      }
    if (!r.current.request_bytes && src.hierarchy)
      if (auto m = memory_min(*src.hierarchy, path)) {
        r.current.request_bytes = m;
        r.request_from = "memory.min";
      }
    if (q.rss_floor_now && src.hierarchy)
      if (auto a = anon_now(*src.hierarchy, path)) {
        r.input.rss_p95_bytes = r.input.rss_max_bytes = *a;
        r.input.rss_name = "anon now";
      }
    r.rec = recommend::recommend(r.input, q.rules);
    if (src.hierarchy) r.gomemlimit_bytes = hint_at(*src.hierarchy, path, r.rec.limit_bytes);
    recommend::Current base = r.current;
    std::optional<int64_t> last_ts;
    if (src.last)
      if (auto l = src.last->find(path); l != src.last->end()) {
        const auto& row = l->second;
        r.last = recommend::LastRecommendation{row.ts_ns, row.request_bytes, row.limit_bytes, row.confidence, row.rationale};
        base = {row.request_bytes, row.limit_bytes};
        r.compared_to = "last recommendation";
        last_ts = row.ts_ns;
      }
    r.decision = recommend::decide(base, r.rec, last_ts, q.now_ns, q.rules);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ow::advisor
