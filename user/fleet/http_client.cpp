#include "fleet/http_client.hpp"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

namespace ow::fleet {
namespace {

struct Attempt {
  bool done = false;
  int status = 0;
  std::string body;
  std::string error;  // set when no HTTP answer arrived
  bool too_long = false;
  size_t expect = 0;  // the body's Content-Length, at most max
  size_t max = 0;     // the bound on the body
};

const char* error_text(enum evhttp_request_error e) {
  switch (e) {
    case EVREQ_HTTP_TIMEOUT: return "timed out";
    case EVREQ_HTTP_EOF: return "connection refused or closed before an answer";
    case EVREQ_HTTP_INVALID_HEADER: return "invalid HTTP answer";
    case EVREQ_HTTP_BUFFER_ERROR: return "connection error";
    case EVREQ_HTTP_REQUEST_CANCEL: return "request cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG: return "answer too large";
  }
  return "request failed";
}

void on_error(enum evhttp_request_error e, void* arg) {
  auto* a = static_cast<Attempt*>(arg);
  if (a->error.empty()) a->error = error_text(e);
  if (e == EVREQ_HTTP_DATA_TOO_LONG) a->too_long = true;
}

// Moves the body's bytes into the answer as they arrive: libevent would
// otherwise hold the whole body in its buffer chains and the answer copy it
// at the end, twice the body at once. With the length known from
// Content-Length (at most the bound) the answer is allocated once.
void take_body(evhttp_request* req, Attempt* a) {
  evbuffer* in = evhttp_request_get_input_buffer(req);
  size_t n = evbuffer_get_length(in);
  if (!n) return;
  if (a->body.empty() && a->body.capacity() < a->expect) a->body.reserve(a->expect);
  size_t at = a->body.size();
  a->body.resize(at + n);
  evbuffer_remove(in, a->body.data() + at, n);
}

void on_chunk(evhttp_request* req, void* arg) {
  auto* a = static_cast<Attempt*>(arg);
  if (a->body.empty() && a->expect == 0) {
    const char* len = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length");
    unsigned long long v = len ? std::strtoull(len, nullptr, 10) : 0;
    a->expect = static_cast<size_t>(std::min<unsigned long long>(v, a->max));
  }
  take_body(req, a);
}

void on_done(evhttp_request* req, void* arg) {
  auto* a = static_cast<Attempt*>(arg);
  a->done = true;
  if (!req || evhttp_request_get_response_code(req) == 0) {
    if (a->error.empty()) a->error = "connection refused or closed before an answer";
    return;
  }
  a->status = evhttp_request_get_response_code(req);
  take_body(req, a);  // what on_chunk has not taken yet
}

struct Parsed {
  std::string host, target;
  int port = 80;
};

Result<Parsed> parse_url(const std::string& url) {
  std::unique_ptr<evhttp_uri, void (*)(evhttp_uri*)> u(evhttp_uri_parse(url.c_str()), evhttp_uri_free);
  if (!u) return app_error("not a URL: '" + url + "'");
  const char* scheme = evhttp_uri_get_scheme(u.get());
  std::string s = scheme ? scheme : "";
  if (s == "https")
    return app_error("https is not supported (oomwatch speaks plain http:// to Prometheus): '" + url + "'");
  if (s != "http") return app_error("not an http:// URL: '" + url + "'");
  const char* host = evhttp_uri_get_host(u.get());
  if (!host || !*host) return app_error("no host in URL '" + url + "'");
  Parsed p;
  p.host = host;
  if (evhttp_uri_get_port(u.get()) > 0) p.port = evhttp_uri_get_port(u.get());
  const char* path = evhttp_uri_get_path(u.get());
  p.target = path && *path ? path : "/";
  if (const char* q = evhttp_uri_get_query(u.get())) p.target += std::string("?") + q;
  return p;
}

Attempt once(const Parsed& p, const HttpOptions& o) {
  Attempt a;
  std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
  if (!base) return a.error = "event_base_new failed", a;
  std::unique_ptr<evhttp_connection, void (*)(evhttp_connection*)> conn(
      evhttp_connection_base_new(base.get(), nullptr, p.host.c_str(), static_cast<uint16_t>(p.port)),
      evhttp_connection_free);
  if (!conn) return a.error = "cannot resolve " + p.host, a;
  timeval tv{o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000};
  evhttp_connection_set_timeout_tv(conn.get(), &tv);
  evhttp_connection_set_max_body_size(conn.get(), static_cast<ev_ssize_t>(o.max_body_bytes));
  evhttp_request* req = evhttp_request_new(on_done, &a);  // owned by the connection once made
  if (!req) return a.error = "evhttp_request_new failed", a;
  evhttp_request_set_error_cb(req, on_error);
  a.max = o.max_body_bytes;
  evhttp_request_set_chunked_cb(req, on_chunk);
  evkeyvalq* h = evhttp_request_get_output_headers(req);
  std::string host_hdr = p.host + ":" + std::to_string(p.port);
  evhttp_add_header(h, "Host", host_hdr.c_str());
  evhttp_add_header(h, "Accept", "application/json");
  evhttp_add_header(h, "Connection", "close");
  if (evhttp_make_request(conn.get(), req, EVHTTP_REQ_GET, p.target.c_str()) != 0)
    return a.error = "cannot send the request", a;
  // The connection's timeout is of silence: an answer that drips a byte now
  // and then would never end. The whole exchange gets the same bound.
  struct Deadline {
    Attempt* a;
    evhttp_request* req;
  } dl{&a, req};
  std::unique_ptr<event, void (*)(event*)> timer(
      evtimer_new(
          base.get(),
          [](evutil_socket_t, short, void* arg) {
            auto* d = static_cast<Deadline*>(arg);
            if (d->a->done) return;
            d->a->error = "timed out";
            d->a->done = true;
            evhttp_cancel_request(d->req);
          },
          &dl),
      event_free);
  if (!timer || evtimer_add(timer.get(), &tv) != 0) return a.error = "cannot arm the answer's deadline", a;
  while (!a.done && event_base_loop(base.get(), EVLOOP_ONCE) == 0) {
  }
  if (!a.done && a.error.empty()) a.error = "no answer";
  return a;
}

}  // namespace

Status check_url(const std::string& url) {
  auto p = parse_url(url);
  if (!p) return p.error();
  return {};
}

Result<HttpResponse> http_get(const std::string& url, const HttpOptions& o) {
  auto p = parse_url(url);
  if (!p) return p.error();
  int backoff = o.backoff_ms;
  std::string last;
  for (int i = 1; i <= std::max(1, o.attempts); ++i) {
    Attempt a = once(*p, o);
    if (a.error.empty() && a.status < 500) return HttpResponse{a.status, std::move(a.body)};
    if (a.too_long) return app_error(fmt::format("answer larger than {} MiB", o.max_body_bytes >> 20));
    if (!a.error.empty()) {
      last = a.error;
      if (last == "timed out") last = fmt::format("timed out after {}", o.timeout_ms % 1000 ? fmt::format("{}ms", o.timeout_ms) : fmt::format("{}s", o.timeout_ms / 1000));
    } else {
      last = fmt::format("HTTP {}", a.status);
      if (i == o.attempts) return HttpResponse{a.status, std::move(a.body)};  // the caller reads the error body
    }
    if (i < o.attempts) {
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff *= 2;
    }
  }
  return app_error(fmt::format("{} ({} attempt{})", last, std::max(1, o.attempts), o.attempts > 1 ? "s" : ""));
}

}  // namespace ow::fleet
