// A blocking HTTP/1.1 GET for the fleet path (Prometheus's HTTP API), on
// libevent's evhttp client: the same static library that serves /metrics, so
// the binary stays static and no HTTP is parsed by hand. http:// only; an
// https:// URL is refused with one line (no TLS library is linked).
// Timeouts, connection failures and 5xx answers are retried a bounded number
// of times with doubling backoff; 4xx answers are returned at once (the
// caller reads Prometheus's error body).
#pragma once
#include <string>

#include "util/result.hpp"

namespace ow::fleet {

struct HttpOptions {
  int timeout_ms = 10000;    // per attempt: connect, send and the whole answer
  int attempts = 3;          // 1 + retries
  int backoff_ms = 200;      // before the 2nd attempt; doubled each time
  // A larger body is refused ("answer larger than N MiB") before it is all
  // read. PromClient lowers it for instant queries (prom_api.hpp).
  size_t max_body_bytes = 256u << 20;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// "http://host[:port]/path?query" -> the answer, or an error naming the URL's
// host and what failed ("connection refused", "timed out after 10s", ...).
// Whether url is one http_get can fetch (http://, a host), without fetching it.
Status check_url(const std::string& url);

Result<HttpResponse> http_get(const std::string& url, const HttpOptions& o = {});

}  // namespace ow::fleet
