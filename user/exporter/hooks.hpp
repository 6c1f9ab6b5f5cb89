// The daemon's side of /metrics: the few calls the loop thread makes (after
// each snapshot, after each audited decision) to keep the agent's counters
// and hand immutable copies to the HTTP server (exporter/server.hpp).
// Nothing here blocks: a publish is a pointer swap.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hintsvc/service.hpp"
#include "exporter/server.hpp"
#include "config/config.hpp"
#include "policy/realloc.hpp"

namespace ow::exporter {

// Reads the web config file (exporter/web_config.hpp) and sets o's TLS
// context (certificate and key loaded), users and client_certs from it.
// Errors are usage errors of one line naming the file. `run` calls it
// before starting, so a bad file stops the agent before it changes anything.
Status apply_web_config(const std::string& path, MetricsOptions& o);

class MetricsHooks {
 public:
  // nullptr when cfg.listen is "" (no listener); an error when it cannot bind.
  // `bound`: the socket bind_listener (exporter/listener.hpp) already bound to
  // cfg.listen, so the port was taken before anything else started.
  static Result<std::unique_ptr<MetricsHooks>> start(const config::Config& cfg, const std::vector<std::string>& roots,
                                                     UniqueFd bound = {});

  // After each snapshot: the snapshot itself (shared, not copied), how long
  // it took, the ring buffer's drops so far, the effective interval it was
  // taken at and the agent's CPU over the last budget period (< 0: none yet).
  void snapshot(std::shared_ptr<const sampler::Snapshot> s, int64_t took_ns, uint64_t ringbuf_drops,
                int64_t interval_ns, double cpu_used);
  // After each audited decision. latency_ns < 0: none measured. gave: the
  // plan took effect on the node (not a dry run) with memory added.
  void action(policy::TriggerKind kind, const std::string& source, const std::string& result, int64_t latency_ns,
              bool gave);
  // After each OOM kill event from the kernel; global: no cgroup was at its limit.
  void kill(bool global);
  // For the hint worker's thread: publishes what the service last published.
  std::function<void(const hintsvc::HintService&)> hint_sink() const;
  // The server, for what the daemon does not count itself: a recommender's
  // publish_recommendations(), and MetricsOptions::annotate at start.
  MetricsServer& server() { return *server_; }

 private:
  void publish();
  std::shared_ptr<MetricsServer> server_;
  metrics::AgentFigures fig_;
};

}  // namespace ow::exporter
