#include "exporter/http_guard.hpp"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/socket.h>

#include <algorithm>

namespace ow::exporter {

namespace {
constexpr timeval kSweep{0, 250'000};  // while any connection is open
}

HttpGuard::HttpGuard(event_base* base, size_t cap, std::chrono::seconds deadline, MakeBev make)
    : base_(base), make_(std::move(make)), cap_(cap), deadline_(deadline) {
  timer_ = event_new(base_, -1, EV_PERSIST, &HttpGuard::on_sweep, this);
}

HttpGuard::~HttpGuard() {
  if (timer_) event_free(timer_);
  for (auto& c : conns_) bufferevent_decref(c.bev);
}

bufferevent* HttpGuard::make_bev(event_base* base, void* guard) {
  auto* g = static_cast<HttpGuard*>(guard);
  // As evhttp makes its own: the socket closed with the bufferevent.
  bufferevent* bev = g->make_ ? g->make_(base) : nullptr;
  // Out of memory for a TLS one: a plain one, closed at once (doomed below),
  // since evhttp would make a plain one itself for a null answer and serve
  // clear text on the TLS port.
  bool failed = g->make_ && !bev;
  if (!bev) bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) return nullptr;  // evhttp makes one itself; that connection is not guarded
  bufferevent_incref(bev);
  bool doomed = failed || g->conns_.size() >= g->cap_;
  g->refused_ += doomed;
  g->conns_.push_back({bev, std::chrono::steady_clock::now() + g->deadline_, doomed});
  if (g->timer_) {
    if (g->conns_.size() == 1) event_add(g->timer_, &kSweep);
    // evhttp sets the socket when this returns: a doomed one is closed on
    // the loop's next turn.
    if (doomed) event_active(g->timer_, EV_TIMEOUT, 0);
  }
  return bev;
}

void HttpGuard::completed(evhttp_request* req) {
  evhttp_connection* evcon = evhttp_request_get_connection(req);
  bufferevent* bev = evcon ? evhttp_connection_get_bufferevent(evcon) : nullptr;
  for (auto& c : conns_)
    if (c.bev == bev) c.deadline = std::chrono::steady_clock::now() + deadline_;
}

void HttpGuard::on_sweep(int, short, void* self) { static_cast<HttpGuard*>(self)->sweep(); }

void HttpGuard::sweep() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = conns_.begin(); it != conns_.end();) {
    bufferevent_data_cb rcb = nullptr;
    bufferevent_getcb(it->bev, &rcb, nullptr, nullptr, nullptr);
    if (!rcb) {  // evhttp freed the connection (bufferevent_free clears the callbacks)
      bufferevent_decref(it->bev);
      it = conns_.erase(it);
      continue;
    }
    if (it->doomed || now >= it->deadline) {
      int fd = bufferevent_getfd(it->bev);
      if (fd >= 0 && ::shutdown(fd, SHUT_RDWR) == 0 && !it->doomed) ++cut_;
      it->doomed = false;
      it->deadline = std::chrono::steady_clock::time_point::max();  // once; evhttp frees it
    }
    ++it;
  }
  if (conns_.empty()) event_del(timer_);
}

}  // namespace ow::exporter
