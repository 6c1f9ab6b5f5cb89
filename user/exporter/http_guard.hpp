// Bounds on the /metrics server's connections that libevent's evhttp does
// not give: its timeout is of silence, so a client sending a header byte
// every few seconds keeps a connection for ever, and it takes any number of
// them. The guard makes each connection's bufferevent (evhttp_set_bevcb),
// so it knows every connection from its accept, and
//  - closes one that has not completed a request within `deadline` of its
//    accept or of its last completed request (longer than evhttp's idle
//    timeout, so an idle keep-alive connection is closed by that first and a
//    scraper's is never cut mid-scrape);
//  - closes at once a connection past `cap` open ones.
// Closing is shutdown(2) of the socket: evhttp reads the end and frees the
// connection itself. The guard holds a reference on each bufferevent, so the
// socket it shuts down is always the connection's own. Server thread only.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

#include "util/noncopyable.hpp"

struct bufferevent;
struct event;
struct event_base;
struct evhttp_request;

namespace ow::exporter {

class HttpGuard : NonCopyable {
 public:
  // make: a connection's bufferevent without its socket (evhttp sets it),
  // e.g. a TLS one (exporter/tls.hpp); empty: a plain socket one.
  using MakeBev = std::function<bufferevent*(event_base*)>;
  HttpGuard(event_base* base, size_t cap, std::chrono::seconds deadline, MakeBev make = {});
  ~HttpGuard();  // after evhttp_free, before event_base_free

  // For evhttp_set_bevcb(http, &HttpGuard::make_bev, guard).
  static bufferevent* make_bev(event_base* base, void* guard);
  // A request of this connection was read whole: its deadline starts again.
  void completed(evhttp_request* req);
  size_t open() const { return conns_.size(); }
  uint64_t refused() const { return refused_; }
  uint64_t cut() const { return cut_; }

 private:
  struct Conn {
    bufferevent* bev;
    std::chrono::steady_clock::time_point deadline;
    bool doomed;  // over the cap: closed at the next sweep
  };
  static void on_sweep(int, short, void* self);
  void sweep();
  event_base* base_;
  MakeBev make_;
  size_t cap_;
  std::chrono::seconds deadline_;
  event* timer_ = nullptr;
  std::vector<Conn> conns_;
  uint64_t refused_ = 0, cut_ = 0;
};

}  // namespace ow::exporter
