// /metrics for Prometheus (`oomwatch run --listen ADDR:PORT`): a libevent
// HTTP server on a thread of its own that renders, per scrape, what the
// daemon last published. The loop thread only hands over immutable
// snapshots (a shared_ptr swap under a mutex held for the swap alone), so a
// slow or hostile client never sits on the rescue path; the server thread
// does the conversion, the cap and the rendering.
//
// Published by the loop thread: each sampler snapshot (moved in, not copied)
// and, after every audited decision, a copy of the agent's counters; by the
// hint worker's thread: the hints it last published; by a recommender (none
// is wired yet), its recommended limits. Read by the server:
// /proc/self for process_* at scrape time.
//
// Serves GET and HEAD of /metrics (text format 0.0.4) and of / (a pointer to
// /metrics); another path is 404, another method (CONNECT included) 405.
// With a web config (exporter/web_config.hpp): HTTPS only (exporter/tls.hpp)
// and/or basic auth (exporter/basic_auth.hpp; a request without valid
// credentials is 401). Every error answer closes the connection. Start it
// after the guardian's fork (fork and threads do not mix).
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/basic_auth.hpp"
#include "exporter/http_guard.hpp"
#include "exporter/tls.hpp"
#include "metrics/registry.hpp"
#include "sampler/sample.hpp"
#include "util/fd.hpp"
#include "util/listen.hpp"
#include "util/noncopyable.hpp"
#include "util/result.hpp"

struct event;
struct event_base;
struct evhttp;
struct evhttp_request;

namespace ow::exporter {

// What the hint worker published: by relative cgroup path.
struct HintFigures {
  uint64_t hint_bytes = 0, ebpf_bytes = 0;
};
using HintTable = std::map<std::string, HintFigures>;

// A recommender's figure per cgroup (relative path -> bytes), for
// oomwatch_cgroup_recommended_limit_bytes.
using RecommendationTable = std::map<std::string, uint64_t>;

struct MetricsOptions {
  ListenAddr addr;
  // exporter/http_guard.hpp: connections open at once (more are closed as they
  // come), and the time a connection has to complete a request.
  size_t max_connections = 64;
  std::chrono::seconds request_deadline{15};
  size_t max_cgroups = 2000;
  std::vector<std::string> managed_roots;  // relative paths; their cgroups are exported first
  // Optional, called on the server thread for every cgroup of a scrape
  // before the cap: fills k8s_namespace, pod and container (a Kubernetes
  // identity lookup plugs in here). Must be thread-safe and cheap (cache).
  std::function<void(metrics::CgroupFigures&)> annotate;
  // From the web config file: TLS (null: plain HTTP), basic_auth_users
  // (empty: no authentication), and whether client certificates are
  // required (authentication too, for the warning about open listeners).
  std::shared_ptr<const MetricsTls> tls;
  std::map<std::string, std::string> users;
  bool client_certs = false;
  bool auth_cache = true;  // false: bcrypt on every request (to measure the cache)
};

class MetricsServer : NonCopyable {
 public:
  // Serves on `bound` (from bind_listener, exporter/listener.hpp), or binds
  // o.addr itself when it is not valid (errors name the address: in use and
  // by whom, not local, ...), and starts the thread.
  static Result<std::unique_ptr<MetricsServer>> start(MetricsOptions o, UniqueFd bound = {});
  ~MetricsServer();  // stops and joins the thread

  void publish_snapshot(std::shared_ptr<const sampler::Snapshot> s);
  void publish_agent(std::shared_ptr<const metrics::AgentFigures> a);
  // round_unix_s: when the hint thread's pass that published them ended.
  void publish_hints(std::shared_ptr<const HintTable> h, double round_unix_s);
  void publish_recommendations(std::shared_ptr<const RecommendationTable> r);
  // The exposition as a scrape would get it now.
  std::string render() const;
  const ListenAddr& addr() const { return o_.addr; }

 private:
  explicit MetricsServer(MetricsOptions o) : o_(std::move(o)) {}
  static void on_request(evhttp_request* req, void* self);
  bool managed(const std::string& cgroup) const;

  MetricsOptions o_;
  mutable std::mutex mu_;  // guards the four pointers and hints_round_s_, held only to copy or swap them
  std::shared_ptr<const sampler::Snapshot> snap_;
  std::shared_ptr<const metrics::AgentFigures> agent_;
  std::shared_ptr<const HintTable> hints_;
  double hints_round_s_ = 0;
  std::shared_ptr<const RecommendationTable> recs_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  std::unique_ptr<HttpGuard> guard_;
  std::unique_ptr<BasicAuth> auth_;  // null: no basic auth
  UniqueFd stop_fd_;        // written by the destructor: the loop breaks itself
  event* stop_ev_ = nullptr;
  std::thread th_;
};

// CPU time and resident memory of this process, from /proc/self.
metrics::ProcessFigures read_process_figures();

}  // namespace ow::exporter
