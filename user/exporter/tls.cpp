#include "exporter/tls.hpp"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <mutex>

#include "util/fs.hpp"

namespace ow::exporter {
namespace {

// The reason of OpenSSL's most recent error (its queue emptied), or fallback.
std::string openssl_reason(const char* fallback) {
  unsigned long e = 0, last = 0;
  while ((e = ERR_get_error()) != 0) last = e;
  if (last == 0) return fallback;
  const char* r = ERR_reason_error_string(last);
  return r ? r : fallback;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// An encrypted key would make OpenSSL ask for a passphrase on the terminal:
// this callback gives none, so such a key fails to load.
int no_passphrase(char*, int, int, void*) { return 0; }

// A PEM file read whole (bounded, never a FIFO) and opened as a memory BIO.
// The BIO reads text in place, so the two live and die together, at one
// address (a moved short string would leave the BIO pointing at nothing).
struct Pem {
  std::string text;
  BioPtr bio;
};

Result<std::unique_ptr<Pem>> open_pem(const std::string& path, const std::string& key) {
  auto t = read_input_file(path, kMaxConfigBytes, "TLS file");
  if (!t) return usage_error("tls_server_config." + key + ": " + t.error().message());
  auto pem = std::make_unique<Pem>();
  pem->text = std::move(*t);
  pem->bio.reset(BIO_new_mem_buf(pem->text.data(), static_cast<int>(pem->text.size())));
  if (!pem->bio) return app_error("out of memory reading " + path);
  return pem;
}

Error bad(const std::string& key, const std::string& path, const std::string& why) {
  return usage_error("tls_server_config." + key + " " + path + ": " + why);
}

// cert_file: the server's certificate first, then any intermediates.
Status load_chain(SSL_CTX* ctx, const std::string& path) {
  auto pem = open_pem(path, "cert_file");
  if (!pem) return pem.error();
  BIO* bio = (*pem)->bio.get();
  X509* leaf = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr);
  if (!leaf) return bad("cert_file", path, "no PEM certificate in it (" + openssl_reason("unreadable") + ")");
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) return bad("cert_file", path, openssl_reason("certificate refused"));
  while (X509* extra = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr))
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return bad("cert_file", path, openssl_reason("intermediate certificate refused"));
    }
  ERR_clear_error();  // the end of the file reads as "no start line"
  return {};
}

Status load_key(SSL_CTX* ctx, const std::string& path) {
  auto pem = open_pem(path, "key_file");
  if (!pem) return pem.error();
  BIO* bio = (*pem)->bio.get();
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
  if (!key)
    return bad("key_file", path,
               "no unencrypted PEM private key in it (" + openssl_reason("unreadable") + ")");
  // Checked first, to say so plainly: SSL_CTX_use_PrivateKey refuses a
  // mismatch with only "key values mismatch".
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert && X509_check_private_key(cert, key) != 1) {
    EVP_PKEY_free(key);
    return bad("key_file", path, "does not match the certificate of cert_file (" + openssl_reason("mismatch") + ")");
  }
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1) return bad("key_file", path, openssl_reason("key refused"));
  return {};
}

// client_ca_file: every certificate in it is trusted to sign client certificates.
Status load_client_ca(SSL_CTX* ctx, const std::string& path) {
  auto pem = open_pem(path, "client_ca_file");
  if (!pem) return pem.error();
  BIO* bio = (*pem)->bio.get();
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int n = 0;
  while (X509* ca = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr)) {
    bool ok = X509_STORE_add_cert(store, ca) == 1 && SSL_CTX_add_client_CA(ctx, ca) == 1;
    X509_free(ca);
    if (!ok) return bad("client_ca_file", path, openssl_reason("CA certificate refused"));
    ++n;
  }
  ERR_clear_error();
  if (n == 0) return bad("client_ca_file", path, "no PEM certificate in it");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return {};
}

}  // namespace

Result<std::shared_ptr<MetricsTls>> MetricsTls::make(const WebConfig& c) {
  static std::once_flag once;
  std::call_once(once, [] { OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr); });
  std::shared_ptr<MetricsTls> t(new MetricsTls());
  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!t->ctx_) return app_error("TLS: cannot make a server context (" + openssl_reason("SSL_CTX_new") + ")");
  SSL_CTX* ctx = t->ctx_;
  if (SSL_CTX_set_min_proto_version(ctx, c.min_version == TlsMin::tls13 ? TLS1_3_VERSION : TLS1_2_VERSION) != 1)
    return app_error("TLS: cannot set the minimum version (" + openssl_reason("refused") + ")");
  // No renegotiation (a client could make the server redo handshakes), no compression (CRIME).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (auto s = load_chain(ctx, c.cert_file); !s) return s.error();
  if (auto s = load_key(ctx, c.key_file); !s) return s.error();
  if (c.client_auth == ClientAuth::require_and_verify)
    if (auto s = load_client_ca(ctx, c.client_ca_file); !s) return s.error();
  return t;
}

MetricsTls::~MetricsTls() {
  if (ctx_) SSL_CTX_free(ctx_);
}

bufferevent* MetricsTls::make_bev(event_base* base) const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return nullptr;
  bufferevent* bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) SSL_free(ssl);
  return bev;
}

}  // namespace ow::exporter
