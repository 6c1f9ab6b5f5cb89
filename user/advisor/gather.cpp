#include "advisor/gather.hpp"

#include <map>

#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::advisor {
namespace {

recommend::WindowFigures figures(const stats::WindowStats& w, int64_t window_ns) {
  recommend::WindowFigures f;
  f.ws_avg_bytes = w.ws_avg_bytes;
  f.ws_p95_bytes = w.ws_p95_bytes;
  f.ws_max_bytes = w.ws_max_bytes;
  f.samples = w.ws_samples;
  f.window_ns = window_ns;
  f.covered_ns = w.last_ts_ns - w.first_ts_ns;
  return f;
}

// What the raw tier says per path: the last limit recorded, and the usage at
// the last OOM kill (the oom_kill counter rose between two samples of the
// same cgroup; usage then was at its highest, so the larger of the two
// samples' usage and a watermark rise between them).
struct RawFacts {
  std::optional<uint64_t> last_limit;
  std::optional<uint64_t> oom_used;
};

std::map<std::string, RawFacts> raw_facts(const std::vector<sampler::Sample>& samples) {
  std::map<std::string, RawFacts> out;
  std::map<std::string, const sampler::Sample*> prev;
  for (const auto& s : samples) {
    RawFacts& f = out[s.cgroup];
    f.last_limit = s.limit_bytes;
    auto it = prev.find(s.cgroup);
    if (it != prev.end() && it->second->cgroup_id == s.cgroup_id && s.ev_oom_kill > it->second->ev_oom_kill) {
      uint64_t used = std::max(it->second->usage_bytes, s.usage_bytes);
      if (s.peak_bytes > it->second->peak_bytes) used = std::max(used, s.peak_bytes);
      f.oom_used = used;
    }
    prev[s.cgroup] = &s;
  }
  return out;
}

// kubelet's MemoryQoS writes the request as v2 memory.min; 0 says nothing.
std::optional<uint64_t> memory_min(const cg::Hierarchy& h, const std::string& rel) {
  if (h.version() != cg::Version::V2) return std::nullopt;
  auto t = read_text(h.abs(rel) + "/memory.min");
  uint64_t v = 0;
  if (!t || !parse_u64(trim(*t), v) || v == 0) return std::nullopt;
  return v;
}

}  // namespace

Result<std::vector<recommend::Report>> gather_recommendations(const RecommendQuery& q, const RecommendSources& src) {
  stats::TimeRange lr{q.now_ns - q.window_ns, q.now_ns}, sr{q.now_ns - q.short_window_ns, q.now_ns};
  auto lw = src.history->window_stats(lr, q.selectors);
  if (!lw) return lw.error();
  auto sw = src.history->window_stats(sr, q.selectors);
  if (!sw) return sw.error();
  auto raw = src.history->raw_samples(lr, q.selectors);
  if (!raw) return raw.error();
  auto facts = raw_facts(*raw);

  std::vector<recommend::Report> out;
  for (const auto& [path, w] : lw->stats) {
    if (w.ws_samples == 0) continue;  // recorded before the working set was
    recommend::Report r;
    r.cgroup = path;
    r.name = path;
    r.input.long_window = figures(w, q.window_ns);
    if (auto s = sw->stats.find(path); s != sw->stats.end() && s->second.ws_samples)
      r.input.short_window = figures(s->second, q.short_window_ns);
    const RawFacts& f = facts[path];
    r.input.oom_used_bytes = f.oom_used;

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
    r.rec = recommend::recommend(r.input, q.rules);
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
