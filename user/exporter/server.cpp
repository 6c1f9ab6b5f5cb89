#include "exporter/server.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "exporter/http_guard.hpp"
#include "exporter/listener.hpp"
#include "cgroup/hierarchy.hpp"
#include "store/sqlite.hpp"
#include "util/clock.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/version.hpp"

namespace ow::exporter {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Once an error answer is written: the socket is shut down, and evhttp,
// reading its end, frees the connection. "Connection: close" alone does
// not do it for CONNECT, whose connection libevent keeps open as a tunnel.
void close_when_sent(evhttp_request* req, void*) {
  evhttp_connection* evcon = evhttp_request_get_connection(req);
  bufferevent* bev = evcon ? evhttp_connection_get_bufferevent(evcon) : nullptr;
  int fd = bev ? bufferevent_getfd(bev) : -1;
  if (fd >= 0) (void)::shutdown(fd, SHUT_RDWR);
}

// An error answer, and the connection closed after it: a client that sends
// what this server does not serve gets no second try on the same connection.
// Sent with evhttp_send_reply, not evhttp_send_error, which drops the
// headers set here (Allow, WWW-Authenticate).
void reply_error(evhttp_request* req, int code, const char* reason) {
  auto* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Connection", "close");
  evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
  evhttp_request_set_on_complete_cb(req, &close_when_sent, nullptr);
  evbuffer* buf = evbuffer_new();
  if (buf) evbuffer_add_printf(buf, "%d %s\n", code, reason);
  evhttp_send_reply(req, code, reason, buf);
  if (buf) evbuffer_free(buf);
}

// HEAD: the headers GET would give (Content-Length of the body included), no body.
void reply_text(evhttp_request* req, int code, const char* reason, const std::string& body, const char* type) {
  evbuffer* buf = evbuffer_new();
  if (!buf) {
    reply_error(req, HTTP_INTERNAL, "Internal Server Error");
    return;
  }
  auto* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Content-Type", type);
  if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
    evhttp_add_header(out, "Content-Length", std::to_string(body.size()).c_str());
  else
    evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, code, reason, buf);
  evbuffer_free(buf);
}

// The request target's path exactly as sent, without the query: "//metrics"
// is not "/metrics" (a URI parser reads "//metrics" as an authority).
std::string target_path(evhttp_request* req) {
  const char* raw = evhttp_request_get_uri(req);
  std::string t = raw ? raw : "";
  return t.substr(0, t.find_first_of("?#"));
}

}  // namespace

metrics::ProcessFigures read_process_figures() {
  metrics::ProcessFigures p;
  p.cpu_seconds = static_cast<double>(process_cpu_ns()) / 1e9;  // the figure the CPU budget measures
  if (auto sm = read_text("/proc/self/statm")) {
    unsigned long long size = 0, res = 0;
    if (std::sscanf(sm->c_str(), "%llu %llu", &size, &res) == 2)
      p.rss_bytes = res * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  // Walks every arena under its lock: microseconds, once a scrape.
  struct mallinfo2 mi = ::mallinfo2();
  p.heap_in_use_bytes = mi.uordblks + mi.hblkhd;
  p.heap_free_bytes = mi.fordblks;
  p.sqlite_bytes = store::sqlite_memory_bytes();
  return p;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(MetricsOptions o, UniqueFd bound) {
  const std::string where = o.addr.str();
  UniqueFd fd = std::move(bound);
  if (!fd.valid()) {
    auto b = bind_listener(o.addr);
    if (!b) return b.error();
    fd = std::move(*b);
  }

  // libevent writes to sockets without MSG_NOSIGNAL: a client that goes away
  // mid-answer (or one the guard cut) must cost an EPIPE, not the process.
  ::signal(SIGPIPE, SIG_IGN);
  static std::once_flag threads_once;
  std::call_once(threads_once, [] { (void)evthread_use_pthreads(); });
  std::unique_ptr<MetricsServer> s(new MetricsServer(std::move(o)));
  s->base_ = event_base_new();
  if (!s->base_) return app_error("metrics listener: event_base_new failed");
  s->http_ = evhttp_new(s->base_);
  if (!s->http_) return app_error("metrics listener: evhttp_new failed");
  // Every method reaches on_request, which answers 405 (and closes) to all
  // but GET and HEAD; libevent's own 501 for a method not allowed here would
  // keep the connection open.
  evhttp_set_allowed_methods(s->http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                           EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
                                           EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
  evhttp_set_timeout(s->http_, 10);
  evhttp_set_max_headers_size(s->http_, 16 * 1024);
  evhttp_set_max_body_size(s->http_, 0);
  evhttp_set_gencb(s->http_, &MetricsServer::on_request, s.get());
  // A whole request within a deadline, a cap on connections (exporter/http_guard.hpp).
  // With TLS, each connection's bufferevent is a TLS one.
  HttpGuard::MakeBev make;
  if (s->o_.tls) make = [tls = s->o_.tls](event_base* b) { return tls->make_bev(b); };
  s->guard_ = std::make_unique<HttpGuard>(s->base_, s->o_.max_connections, s->o_.request_deadline, std::move(make));
  if (!s->o_.users.empty()) s->auth_ = std::make_unique<BasicAuth>(s->o_.users, s->o_.auth_cache);
  evhttp_set_bevcb(s->http_, &HttpGuard::make_bev, s->guard_.get());
  if (!evhttp_accept_socket_with_handle(s->http_, fd.get()))
    return app_error("metrics listener: cannot accept on " + where);
  (void)fd.release();  // the listener closes it (evhttp_free)
  // Stopping: the destructor writes to an eventfd the loop watches, and the
  // loop breaks itself. (event_base_loopbreak from another thread is lost
  // when it comes before the loop has started: the loop clears the flag.)
  s->stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->stop_fd_.valid()) return sys_error("metrics listener: eventfd");
  s->stop_ev_ = event_new(
      s->base_, s->stop_fd_.get(), EV_READ, [](evutil_socket_t, short, void* b) {
        event_base_loopbreak(static_cast<event_base*>(b));
      },
      s->base_);
  if (!s->stop_ev_ || event_add(s->stop_ev_, nullptr) != 0) return app_error("metrics listener: stop event");
  s->th_ = std::thread([b = s->base_] { event_base_dispatch(b); });
  const bool tls = s->o_.tls != nullptr, auth = s->auth_ || s->o_.client_certs;
  spdlog::info("metrics on {}://{}/metrics{}", tls ? "https" : "http", where,
               auth ? (s->auth_ ? " (basic auth)" : " (client certificates)") : "");
  // Beyond loopback, what is missing is said: without TLS the figures (and a
  // basic-auth password) cross the network in clear; without authentication
  // anyone who can connect reads every cgroup's name and figures.
  if (!s->o_.addr.loopback() && !(tls && auth))
    spdlog::warn("metrics on {} are reachable beyond this host, {}: {} (set {} in --web-config-file, or listen on "
                 "127.0.0.1)",
                 where,
                 !tls && !auth ? "unencrypted (no TLS) and unauthenticated (no basic auth)"
                 : !tls        ? "unencrypted (no TLS)"
                               : "unauthenticated (no basic auth or client certificates)",
                 !tls && !auth ? "anyone who can connect reads every cgroup's name and figures, in clear text"
                 : !tls        ? "the figures and the basic-auth password cross the network in clear text"
                               : "anyone who can connect reads every cgroup's name and figures",
                 !tls && !auth ? "tls_server_config and basic_auth_users"
                 : !tls        ? "tls_server_config"
                               : "basic_auth_users");
  return s;
}

MetricsServer::~MetricsServer() {
  if (th_.joinable()) {
    uint64_t one = 1;
    if (::write(stop_fd_.get(), &one, sizeof one) != sizeof one) event_base_loopbreak(base_);
    th_.join();
  }
  if (stop_ev_) event_free(stop_ev_);
  if (http_) evhttp_free(http_);
  guard_.reset();  // its references on what evhttp freed, and its timer
  if (base_) event_base_free(base_);
}

void MetricsServer::publish_snapshot(std::shared_ptr<const sampler::Snapshot> s) {
  std::lock_guard<std::mutex> lk(mu_);
  snap_.swap(s);
  // the old snapshot is released outside the lock, when s goes out of scope
}

void MetricsServer::publish_agent(std::shared_ptr<const metrics::AgentFigures> a) {
  std::lock_guard<std::mutex> lk(mu_);
  agent_.swap(a);
}

void MetricsServer::publish_hints(std::shared_ptr<const HintTable> h, double round_unix_s) {
  std::lock_guard<std::mutex> lk(mu_);
  hints_.swap(h);
  hints_round_s_ = round_unix_s;
}

void MetricsServer::publish_recommendations(std::shared_ptr<const RecommendationTable> r) {
  std::lock_guard<std::mutex> lk(mu_);
  recs_.swap(r);
}

bool MetricsServer::managed(const std::string& cgroup) const {
  for (const auto& r : o_.managed_roots)
    if (cg::is_under(cgroup, r)) return true;
  return false;
}

std::string MetricsServer::render() const {
  std::shared_ptr<const sampler::Snapshot> snap;
  std::shared_ptr<const metrics::AgentFigures> agent;
  std::shared_ptr<const HintTable> hints;
  std::shared_ptr<const RecommendationTable> recs;
  double hints_round_s = 0;
  {
    std::lock_guard<std::mutex> lk(mu_);
    hints_round_s = hints_round_s_;
    snap = snap_;
    agent = agent_;
    hints = hints_;
    recs = recs_;
  }
  std::vector<metrics::CgroupFigures> cgs;
  if (snap) {
    cgs.reserve(snap->samples.size());
    for (const auto& s : snap->samples) {
      auto c = metrics::from_sample(s);
      c.managed = managed(c.cgroup);
      if (hints)
        if (auto it = hints->find(c.cgroup); it != hints->end()) {
          c.gomemlimit_bytes = it->second.hint_bytes;
          c.ebpf_bytes = it->second.ebpf_bytes;
        }
      if (recs)
        if (auto it = recs->find(c.cgroup); it != recs->end()) c.recommended_limit_bytes = it->second;
      if (o_.annotate) o_.annotate(c);
      cgs.push_back(std::move(c));
    }
  }
  size_t dropped = metrics::select_cgroups(cgs, o_.max_cgroups);
  metrics::AgentFigures figs = agent ? *agent : metrics::AgentFigures{};
  figs.hints_published_seconds = hints_round_s;
  return metrics::render(metrics::families(cgs, dropped, figs, read_process_figures(), {ow::version(), ow::commit()}));
}

void MetricsServer::on_request(evhttp_request* req, void* self) {
  auto* s = static_cast<MetricsServer*>(self);
  s->guard_->completed(req);
  const std::string p = target_path(req);
  auto method = evhttp_request_get_command(req);
  try {
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
      reply_error(req, 405, "Method Not Allowed");
    } else if (s->auth_ &&
               !s->auth_->allow(evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"))) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Basic realm=\"oomwatch\"");
      reply_error(req, 401, "Unauthorized");
    } else if (p == "/metrics")
      reply_text(req, HTTP_OK, "OK", s->render(), kContentType);
    else if (p == "/")
      reply_text(req, HTTP_OK, "OK", "oomwatch: metrics at /metrics\n", "text/plain; charset=utf-8");
    else
      reply_error(req, HTTP_NOTFOUND, "Not Found");
  } catch (const std::exception& e) {
    spdlog::error("metrics: internal error ({})", e.what());
    reply_error(req, HTTP_INTERNAL, "Internal Server Error");
  }
}

}  // namespace ow::exporter
