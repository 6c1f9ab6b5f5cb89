#include "exporter/web_config.hpp"

#include <regex>

#include "fleet/yaml_json.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::exporter {
namespace {

using json = nlohmann::json;

std::string keys_of(std::initializer_list<const char*> keys) {
  std::string s;
  for (const char* k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

// The toolkit's keys that oomwatch does not implement: refused by name.
bool toolkit_tls_key(const std::string& k) {
  for (const char* t : {"cert", "key", "client_ca", "client_allowed_sans", "cipher_suites", "curve_preferences",
                        "max_version", "prefer_server_cipher_suites"})
    if (k == t) return true;
  return false;
}

Result<std::string> string_at(const json& v, const std::string& key) {
  if (!v.is_string()) return usage_error(key + ": want a string");
  return v.get<std::string>();
}

Result<std::string> file_at(const json& v, const std::string& key, const std::string& dir) {
  auto s = string_at(v, key);
  if (!s) return s;
  if (s->empty()) return usage_error(key + ": empty path");
  if ((*s)[0] == '/' || dir.empty()) return s;
  return dir + "/" + *s;
}

Status parse_tls(const json& t, const std::string& dir, WebConfig& c) {
  static const auto kSupported = keys_of({"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version"});
  if (!t.is_object()) return usage_error("tls_server_config: want a map with cert_file and key_file");
  c.tls = true;
  bool ca_given = false;
  for (const auto& [k, v] : t.items()) {
    const std::string key = "tls_server_config." + excerpt(k);
    if (k == "cert_file" || k == "key_file" || k == "client_ca_file") {
      auto f = file_at(v, key, dir);
      if (!f) return f.error();
      (k == "cert_file" ? c.cert_file : k == "key_file" ? c.key_file : c.client_ca_file) = *f;
      ca_given |= k == "client_ca_file";
    } else if (k == "client_auth_type") {
      auto s = string_at(v, key);
      if (!s) return s.error();
      if (*s == "NoClientCert" || s->empty())
        c.client_auth = ClientAuth::none;
      else if (*s == "RequireAndVerifyClientCert")
        c.client_auth = ClientAuth::require_and_verify;
      else if (*s == "RequestClientCert" || *s == "RequireAnyClientCert" || *s == "VerifyClientCertIfGiven")
        return usage_error(key + ": '" + *s +
                           "' is not supported by oomwatch (NoClientCert or RequireAndVerifyClientCert)");
      else
        return usage_error(key + ": '" + excerpt(*s) + "' is not one of NoClientCert, RequireAndVerifyClientCert");
    } else if (k == "min_version") {
      auto s = string_at(v, key);
      if (!s) return s.error();
      if (*s == "TLS12")
        c.min_version = TlsMin::tls12;
      else if (*s == "TLS13")
        c.min_version = TlsMin::tls13;
      else if (*s == "TLS10" || *s == "TLS11")
        return usage_error(key + ": '" + *s + "' is not supported by oomwatch (TLS12 or TLS13)");
      else
        return usage_error(key + ": '" + excerpt(*s) + "' is not one of TLS12, TLS13");
    } else if (toolkit_tls_key(k)) {
      return usage_error(key + ": not supported by oomwatch (supported: " + kSupported + ")");
    } else {
      return usage_error(key + ": unknown key (supported: " + kSupported + ")");
    }
  }
  if (c.cert_file.empty()) return usage_error("tls_server_config: cert_file is missing");
  if (c.key_file.empty()) return usage_error("tls_server_config: key_file is missing");
  if (c.client_auth == ClientAuth::require_and_verify && !ca_given)
    return usage_error("tls_server_config: RequireAndVerifyClientCert needs client_ca_file");
  if (c.client_auth == ClientAuth::none && ca_given)
    return usage_error("tls_server_config: client_ca_file is given but client_auth_type is not "
                       "RequireAndVerifyClientCert: client certificates would not be checked");
  return {};
}

Status parse_users(const json& u, WebConfig& c) {
  if (u.is_null()) return {};
  if (!u.is_object()) return usage_error("basic_auth_users: want a map of user name to bcrypt hash");
  // bcrypt's modular crypt format: $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash.
  static const std::regex kBcrypt(R"(\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53})");
  for (const auto& [user, h] : u.items()) {
    const std::string key = "basic_auth_users." + excerpt(user);
    if (user.empty()) return usage_error("basic_auth_users: an empty user name");
    if (user.find(':') != std::string::npos)
      return usage_error(key + ": a user name with ':' cannot be sent in basic auth");
    if (!h.is_string()) return usage_error(key + ": want a bcrypt hash ($2y$...) as a string");
    const auto& hash = h.get_ref<const std::string&>();
    if (!std::regex_match(hash, kBcrypt))
      return usage_error(key + ": not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters); "
                         "make one with `htpasswd -nbBC 10 USER PASSWORD`");
    c.users[user] = hash;
  }
  return {};
}

}  // namespace

Result<WebConfig> parse_web_config(const std::string& text, const std::string& dir) {
  auto j = fleet::yaml_to_json(text);
  // yaml-cpp quotes the offending character raw (a newline, a NUL): printable keeps the error one line.
  if (!j) return usage_error(printable(j.error().message()));
  WebConfig c;
  if (j->is_null()) return c;  // an empty file: plain HTTP, no authentication, as the toolkit does
  if (!j->is_object()) return usage_error("want a YAML map with tls_server_config and/or basic_auth_users");
  for (const auto& [k, v] : j->items()) {
    Status st;
    if (k == "tls_server_config")
      st = parse_tls(v, dir, c);
    else if (k == "basic_auth_users")
      st = parse_users(v, c);
    else if (k == "http_server_config" || k == "rate_limit")
      return usage_error(k + ": not supported by oomwatch (supported: tls_server_config, basic_auth_users)");
    else
      return usage_error(excerpt(k) + ": unknown key (supported: tls_server_config, basic_auth_users)");
    if (!st) return st.error();
  }
  return c;
}

Result<WebConfig> load_web_config(const std::string& path) {
  // Missing or unreadable is the operator's input too (exit 2), as for --config.
  auto text = read_input_file(path, kMaxConfigBytes, "web config file");
  if (!text) return usage_error(text.error().message());
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  auto c = parse_web_config(*text, dir);
  if (!c) return usage_error("web config " + path + ": " + c.error().message());
  return c;
}

}  // namespace ow::exporter
