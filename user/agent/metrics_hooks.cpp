#include "agent/metrics_hooks.hpp"

namespace ow::agent {

Result<std::unique_ptr<MetricsHooks>> MetricsHooks::start(const config::Config& cfg,
                                                          const std::vector<std::string>& roots) {
  if (cfg.listen.empty()) return std::unique_ptr<MetricsHooks>();
  auto a = parse_listen(cfg.listen);
  if (!a) return app_error("listen: " + a.error().message());
  MetricsOptions o;
  o.addr = *a;
  o.max_cgroups = cfg.metrics_max_cgroups;
  o.managed_roots = roots;
  auto s = MetricsServer::start(std::move(o));
  if (!s) return s.error();
  std::unique_ptr<MetricsHooks> h(new MetricsHooks());
  h->server_ = std::move(*s);
  h->publish();
  return h;
}

void MetricsHooks::publish() { server_->publish_agent(std::make_shared<const metrics::AgentFigures>(fig_)); }

void MetricsHooks::snapshot(std::shared_ptr<const sampler::Snapshot> s, int64_t took_ns, uint64_t ringbuf_drops) {
  fig_.snapshots++;
  fig_.snapshot_seconds = static_cast<double>(took_ns) / 1e9;
  fig_.tracked_cgroups = s ? s->samples.size() : 0;
  fig_.ringbuf_drops = ringbuf_drops;
  server_->publish_snapshot(std::move(s));
  publish();
}

void MetricsHooks::action(policy::TriggerKind kind, const std::string& source, const std::string& result,
                          int64_t latency_ns, bool gave) {
  fig_.actions[{policy::to_string(kind), source, result}]++;
  if (gave && latency_ns >= 0) fig_.rescue_latency.observe(static_cast<double>(latency_ns) / 1e9);
  if (gave && kind != policy::TriggerKind::oom_kill) fig_.prevented_kills++;
  publish();
}

std::function<void(const HintService&)> MetricsHooks::hint_sink() const {
  return [srv = server_](const HintService& svc) {
    auto t = std::make_shared<HintTable>();
    for (const auto& [id, p] : svc.published()) (*t)[p.cgroup] = {p.hint_bytes, p.breakdown.ebpf_bytes};
    srv->publish_hints(std::move(t));
  };
}

}  // namespace ow::agent
