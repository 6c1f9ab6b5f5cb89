// The /metrics endpoint's web configuration file (`run --web-config-file`):
// the YAML format of the Prometheus exporter toolkit (node_exporter's
// --web.config.file), of which oomwatch implements
//
//   tls_server_config:
//     cert_file: server.crt            # PEM; relative paths are relative to this file's directory
//     key_file: server.key             # PEM, unencrypted
//     client_auth_type: NoClientCert   # or RequireAndVerifyClientCert (then client_ca_file is required)
//     client_ca_file: ca.crt
//     min_version: TLS12               # or TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...           # bcrypt ($2a$, $2b$, $2y$)
//
// Every other key the toolkit knows (inline cert/key, cipher_suites,
// max_version, client_allowed_sans, http_server_config, rate_limit, ...)
// is refused with one line naming it, never silently ignored: an operator
// who wrote it expects it to be in force. Pure but for reading the file.
#pragma once
#include <map>
#include <string>

#include "util/result.hpp"

namespace ow::exporter {

enum class ClientAuth { none, require_and_verify };
enum class TlsMin { tls12, tls13 };

struct WebConfig {
  bool tls = false;  // tls_server_config given: serve HTTPS only
  std::string cert_file, key_file, client_ca_file;  // resolved against the file's directory
  ClientAuth client_auth = ClientAuth::none;
  TlsMin min_version = TlsMin::tls12;
  std::map<std::string, std::string> users;  // basic_auth_users: user -> bcrypt hash; empty = no auth
};

// text: the file's content; dir: its directory, for relative paths. Errors
// are one line naming the key, e.g. "tls_server_config.cipher_suites: not
// supported by oomwatch (supported: cert_file, key_file, ...)".
Result<WebConfig> parse_web_config(const std::string& text, const std::string& dir);
// Reads path (a regular file, at most kMaxConfigBytes) and parses it; errors
// (usage errors) start with the path.
Result<WebConfig> load_web_config(const std::string& path);

}  // namespace ow::exporter
