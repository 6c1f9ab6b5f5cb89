#include "exporter/hooks.hpp"

#include <mutex>
#include <unordered_map>

#include "k8s/identity.hpp"
#include "k8s/kubelet_logs.hpp"
#include "exporter/web_config.hpp"
#include "util/clock.hpp"

namespace ow::exporter {
namespace {

// namespace/pod/container labels of Kubernetes cgroups, from the kubelet's log
// directories, re-read at most once a minute (new pods appear there when they
// start). Called from the HTTP thread only, but guarded anyway.
class K8sLabels {
 public:
  explicit K8sLabels(std::string log_dir) : dir_(std::move(log_dir)) {}
  void operator()(metrics::CgroupFigures& f) {
    if (!k8s::parse_cgroup_path(f.cgroup)) return;  // cheap: most cgroups stop here
    std::lock_guard<std::mutex> lk(mu_);
    int64_t now = mono_ns();
    if (!loaded_ || now - loaded_ns_ >= 60'000'000'000LL) {
      auto n = k8s::read_kubelet_logs(dir_);
      names_ = n ? std::move(*n) : k8s::KubeletNames{};
      cache_.clear();
      loaded_ = true;
      loaded_ns_ = now;
    }
    auto it = cache_.find(f.cgroup);
    if (it == cache_.end()) {
      Labels l;
      if (auto named = k8s::name_cgroup(f.cgroup, names_)) l = {named->ns, named->pod, named->container};
      it = cache_.emplace(f.cgroup, std::move(l)).first;
    }
    f.k8s_namespace = it->second.ns;
    f.pod = it->second.pod;
    f.container = it->second.container;
  }

 private:
  struct Labels {
    std::string ns, pod, container;
  };
  std::string dir_;
  std::mutex mu_;
  bool loaded_ = false;
  int64_t loaded_ns_ = 0;
  k8s::KubeletNames names_;
  std::unordered_map<std::string, Labels> cache_;
};

}  // namespace

Status apply_web_config(const std::string& path, MetricsOptions& o) {
  auto w = load_web_config(path);
  if (!w) return w.error();
  if (w->tls) {
    auto t = MetricsTls::make(*w);
    if (!t) return usage_error("web config " + path + ": " + t.error().message());
    o.tls = *t;
  }
  o.users = w->users;
  o.client_certs = w->client_auth == ClientAuth::require_and_verify;
  return {};
}

Result<std::unique_ptr<MetricsHooks>> MetricsHooks::start(const config::Config& cfg,
                                                          const std::vector<std::string>& roots, UniqueFd bound) {
  if (cfg.listen.empty()) return std::unique_ptr<MetricsHooks>();
  auto a = parse_listen(cfg.listen);
  if (!a) return app_error("listen: " + a.error().message());
  MetricsOptions o;
  o.addr = *a;
  o.max_cgroups = cfg.metrics_max_cgroups;
  o.managed_roots = roots;
  auto labels = std::make_shared<K8sLabels>(cfg.recommend_pods_log_dir.empty() ? k8s::kDefaultLogDir
                                                                                 : cfg.recommend_pods_log_dir);
  o.annotate = [labels](metrics::CgroupFigures& f) { (*labels)(f); };
  if (!cfg.web_config_file.empty())
    if (auto st = apply_web_config(cfg.web_config_file, o); !st) return st.error();
  auto s = MetricsServer::start(std::move(o), std::move(bound));
  if (!s) return s.error();
  std::unique_ptr<MetricsHooks> h(new MetricsHooks());
  h->server_ = std::move(*s);
  h->fig_.snapshot_interval_seconds = static_cast<double>(cfg.interval_ns) / 1e9;
  h->fig_.cpu_budget_ratio = cfg.cpu_budget_pct / 100;
  h->publish();
  return h;
}

void MetricsHooks::publish() { server_->publish_agent(std::make_shared<const metrics::AgentFigures>(fig_)); }

void MetricsHooks::snapshot(std::shared_ptr<const sampler::Snapshot> s, int64_t took_ns, uint64_t ringbuf_drops,
                            int64_t interval_ns, double cpu_used) {
  fig_.snapshots++;
  fig_.snapshot_interval_seconds = static_cast<double>(interval_ns) / 1e9;
  fig_.cpu_used_ratio = cpu_used;
  fig_.snapshot_seconds = static_cast<double>(took_ns) / 1e9;
  fig_.tracked_cgroups = s ? s->samples.size() : 0;
  fig_.ringbuf_drops = ringbuf_drops;
  server_->publish_snapshot(std::move(s));
  publish();
}

void MetricsHooks::kill(bool global) {
  (global ? fig_.oom_kills_global : fig_.oom_kills_cgroup)++;
  publish();
}

void MetricsHooks::action(policy::TriggerKind kind, const std::string& source, const std::string& result,
                          int64_t latency_ns, bool gave) {
  fig_.actions[{policy::to_string(kind), source, result}]++;
  if (gave && latency_ns >= 0) fig_.rescue_latency.observe(static_cast<double>(latency_ns) / 1e9);
  if (gave && kind != policy::TriggerKind::oom_kill) fig_.prevented_kills++;
  publish();
}

std::function<void(const hintsvc::HintService&)> MetricsHooks::hint_sink() const {
  return [srv = server_](const hintsvc::HintService& svc) {
    auto t = std::make_shared<HintTable>();
    for (const auto& [id, p] : svc.published()) (*t)[p.cgroup] = {p.hint_bytes, p.breakdown.ebpf_bytes};
    srv->publish_hints(std::move(t), static_cast<double>(wall_ns()) / 1e9);
  };
}

}  // namespace ow::exporter
