// TLS for the /metrics server (exporter/web_config.hpp's tls_server_config):
// an OpenSSL server context made once at start, and one libevent
// bufferevent_openssl per accepted connection, which evhttp reads and
// writes in clear while the socket carries TLS.
//
// The binary is static: OpenSSL is initialised without reading
// openssl.cnf (OPENSSL_INIT_NO_LOAD_CONFIG), so it never tries to load a
// configured provider, engine or module it could not load anyway. The
// certificate, key and client CA files are read through read_input_file
// (regular files, at most kMaxConfigBytes each) and parsed from memory; an
// encrypted key is refused, never prompted for.
#pragma once
#include <memory>

#include "exporter/web_config.hpp"
#include "util/noncopyable.hpp"
#include "util/result.hpp"

struct bufferevent;
struct event_base;
struct ssl_ctx_st;

namespace ow::exporter {

class MetricsTls : NonCopyable {
 public:
  // Errors are one line naming the file and what is wrong with it (no
  // certificate in it, the key does not match the certificate, ...).
  static Result<std::shared_ptr<MetricsTls>> make(const WebConfig& c);
  ~MetricsTls();
  // A server-side TLS bufferevent with no socket yet (evhttp sets it), which
  // closes the socket and frees its SSL when freed; nullptr on failure.
  bufferevent* make_bev(event_base* base) const;

 private:
  MetricsTls() = default;
  ssl_ctx_st* ctx_ = nullptr;
};

}  // namespace ow::exporter
