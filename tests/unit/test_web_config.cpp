// The /metrics web config file (exporter/web_config.hpp): what is accepted and
// how paths resolve; every refused form gives its one line. Basic auth
// (exporter/basic_auth.hpp): the header's decoding, bcrypt verification with
// libxcrypt, and the cache of successful verifications (bcrypt runs counted).
#include <catch2/catch.hpp>
#include <crypt.h>

#include <fstream>

#include "exporter/basic_auth.hpp"
#include "exporter/web_config.hpp"
#include "agent_helpers.hpp"

using namespace ow;
using namespace ow::exporter;

namespace {

// A bcrypt hash of password (libxcrypt; cost 4, the least, to keep the test fast).
std::string bcrypt(const std::string& password, const char* prefix = "$2b$") {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt));
  crypt_data cd{};
  const char* h = crypt_rn(password.c_str(), salt, &cd, sizeof cd);
  REQUIRE(h);
  REQUIRE(h[0] == '$');
  return h;
}

std::string basic(const std::string& user_pass) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < user_pass.size(); i += 3) {
    uint32_t v = (uint8_t)user_pass[i] << 16 | (uint8_t)user_pass[i + 1] << 8 | (uint8_t)user_pass[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (user_pass.size() - i == 1) {
    uint32_t v = (uint8_t)user_pass[i] << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (user_pass.size() - i == 2) {
    uint32_t v = (uint8_t)user_pass[i] << 16 | (uint8_t)user_pass[i + 1] << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return "Basic " + out;
}

const std::string kHash = "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze";

std::string refused(const std::string& yaml) {
  auto c = parse_web_config(yaml, "/etc/ow");
  REQUIRE_FALSE(c);
  CHECK(c.error().usage);
  auto m = c.error().message();
  CHECK(m.find('\n') == std::string::npos);
  return m;
}

}  // namespace

TEST_CASE("web config: TLS with client certificates, users, paths relative to the file's directory", "[webconfig]") {
  auto c = parse_web_config("tls_server_config:\n  cert_file: server.crt\n  key_file: /abs/server.key\n"
                            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca/ca.crt\n"
                            "  min_version: TLS13\nbasic_auth_users:\n  alice: " + kHash + "\n  bob: '" + kHash + "'\n",
                            "/etc/ow");
  REQUIRE(c);
  CHECK(c->tls);
  CHECK(c->cert_file == "/etc/ow/server.crt");
  CHECK(c->key_file == "/abs/server.key");
  CHECK(c->client_ca_file == "/etc/ow/ca/ca.crt");
  CHECK(c->client_auth == ClientAuth::require_and_verify);
  CHECK(c->min_version == TlsMin::tls13);
  CHECK(c->users.size() == 2);
  CHECK(c->users.at("alice") == kHash);
}

TEST_CASE("web config: the defaults; an empty file is plain HTTP without authentication", "[webconfig]") {
  auto c = parse_web_config("tls_server_config:\n  cert_file: a\n  key_file: b\n", "/d");
  REQUIRE(c);
  CHECK(c->client_auth == ClientAuth::none);
  CHECK(c->min_version == TlsMin::tls12);
  CHECK(c->users.empty());
  auto e = parse_web_config("", "/d");
  REQUIRE(e);
  CHECK_FALSE(e->tls);
  CHECK(e->users.empty());
  auto u = parse_web_config("basic_auth_users:\n  a: " + kHash + "\n", "/d");
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  for (const char* p : {"$2a$", "$2b$", "$2y$"}) {
    auto h = std::string(p) + kHash.substr(4);
    CHECK(parse_web_config("basic_auth_users:\n  a: " + h + "\n", "/d"));
  }
}

TEST_CASE("web config: every refused form is one line naming the key", "[webconfig]") {
  const std::string tls = "tls_server_config:\n  cert_file: a\n  key_file: b\n";
  CHECK_THAT(refused("a: [1\n"), Catch::StartsWith("YAML line"));
  CHECK_THAT(refused("- 1\n"), Catch::Contains("want a YAML map"));
  CHECK_THAT(refused("tls_config:\n  cert_file: a\n"), Catch::StartsWith("tls_config: unknown key"));
  CHECK_THAT(refused("http_server_config:\n  http2: false\n"),
             Catch::StartsWith("http_server_config: not supported by oomwatch"));
  CHECK_THAT(refused("rate_limit:\n  burst: 20\n"), Catch::StartsWith("rate_limit: not supported by oomwatch"));
  CHECK_THAT(refused("tls_server_config: yes\n"), Catch::StartsWith("tls_server_config: want a map"));
  CHECK_THAT(refused("tls_server_config:\n  key_file: b\n"), Catch::Contains("cert_file is missing"));
  CHECK_THAT(refused("tls_server_config:\n  cert_file: a\n"), Catch::Contains("key_file is missing"));
  CHECK_THAT(refused("tls_server_config:\n  cert_file: ''\n  key_file: b\n"),
             Catch::StartsWith("tls_server_config.cert_file: empty path"));
  CHECK_THAT(refused("tls_server_config:\n  cert_file: [a]\n  key_file: b\n"),
             Catch::StartsWith("tls_server_config.cert_file: want a string"));
  for (const char* k : {"cert: x", "key: x", "client_ca: x", "client_allowed_sans: [a]", "cipher_suites: [x]",
                        "curve_preferences: [x]", "max_version: TLS13", "prefer_server_cipher_suites: true"}) {
    std::string key(k, std::string_view(k).find(':'));
    CHECK_THAT(refused(tls + "  " + k + "\n"),
               Catch::StartsWith("tls_server_config." + key + ": not supported by oomwatch"));
  }
  CHECK_THAT(refused(tls + "  certfile: x\n"), Catch::StartsWith("tls_server_config.certfile: unknown key"));
  for (const char* a : {"RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven"})
    CHECK_THAT(refused(tls + "  client_auth_type: " + a + "\n"), Catch::Contains("is not supported by oomwatch"));
  CHECK_THAT(refused(tls + "  client_auth_type: Always\n"), Catch::Contains("is not one of NoClientCert"));
  CHECK_THAT(refused(tls + "  client_auth_type: RequireAndVerifyClientCert\n"),
             Catch::Contains("RequireAndVerifyClientCert needs client_ca_file"));
  CHECK_THAT(refused(tls + "  client_ca_file: ca.crt\n"), Catch::Contains("client certificates would not be checked"));
  for (const char* v : {"TLS10", "TLS11"})
    CHECK_THAT(refused(tls + "  min_version: " + v + "\n"), Catch::Contains("not supported by oomwatch (TLS12 or TLS13)"));
  CHECK_THAT(refused(tls + "  min_version: TLS1.2\n"), Catch::Contains("is not one of TLS12, TLS13"));
  CHECK_THAT(refused("basic_auth_users: [a]\n"), Catch::StartsWith("basic_auth_users: want a map"));
  CHECK_THAT(refused("basic_auth_users:\n  a: secret\n"), Catch::StartsWith("basic_auth_users.a: not a bcrypt hash"));
  CHECK_THAT(refused("basic_auth_users:\n  a: $1$abc$def\n"), Catch::Contains("not a bcrypt hash"));
  CHECK_THAT(refused("basic_auth_users:\n  a: " + kHash.substr(0, 59) + "\n"), Catch::Contains("not a bcrypt hash"));
  CHECK_THAT(refused("basic_auth_users:\n  a: 12\n"), Catch::Contains("want a bcrypt hash"));
  CHECK_THAT(refused("basic_auth_users:\n  'a:b': " + kHash + "\n"), Catch::Contains("user name with ':'"));
  CHECK_THAT(refused("basic_auth_users:\n  '': " + kHash + "\n"), Catch::Contains("empty user name"));
  // yaml-cpp's bound on aliases (fleet/yaml_json.hpp) holds here too.
  CHECK_THAT(refused("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                     "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"),
             Catch::Contains("more than"));
}

TEST_CASE("web config: the file is read through the bounded reader; errors name it", "[webconfig]") {
  owtest::TmpTree t("owtest-webconfig");
  auto missing = load_web_config(t.path + "/none.yml");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Catch::Contains(t.path + "/none.yml"));
  auto dir = load_web_config(t.path);
  REQUIRE_FALSE(dir);
  CHECK_THAT(dir.error().message(), Catch::Contains("must be a regular file"));
  std::ofstream(t.path + "/w.yml") << "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  bogus: 1\n";
  auto bad = load_web_config(t.path + "/w.yml");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "web config " + t.path + "/w.yml: tls_server_config.bogus: unknown key (supported: cert_file, key_file, "
                                 "client_auth_type, client_ca_file, min_version)");
  std::ofstream(t.path + "/w.yml") << "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";
  auto ok = load_web_config(t.path + "/w.yml");
  REQUIRE(ok);
  CHECK(ok->cert_file == t.path + "/s.crt");
}

TEST_CASE("basic auth: the header decodes; only the right password passes", "[webconfig][basicauth]") {
  std::string user, pass;
  CHECK(decode_basic(basic("alice:pa:ss").c_str(), user, pass));
  CHECK(user == "alice");
  CHECK(pass == "pa:ss");
  CHECK(decode_basic(("basic " + basic("a:b").substr(6)).c_str(), user, pass));
  for (const char* bad : {"", "Bearer abc", "Basic ", "Basic !!!!", "Basic YWJj" /* "abc": no colon */})
    CHECK_FALSE(decode_basic(bad, user, pass));
  CHECK_FALSE(decode_basic(nullptr, user, pass));
  CHECK_FALSE(decode_basic(basic(std::string("a:b\0c", 5)).c_str(), user, pass));

  BasicAuth auth({{"alice", bcrypt("right", "$2b$")}, {"bob", bcrypt("other", "$2y$")}});
  CHECK(auth.allow(basic("alice:right").c_str()));
  CHECK(auth.allow(basic("bob:other").c_str()));
  CHECK_FALSE(auth.allow(basic("alice:wrong").c_str()));
  CHECK_FALSE(auth.allow(basic("alice:righ").c_str()));
  CHECK_FALSE(auth.allow(basic("bob:right").c_str()));
  CHECK_FALSE(auth.allow(nullptr));
}

TEST_CASE("basic auth: a success is cached, a failure never; an unknown user costs a bcrypt too", "[webconfig][basicauth]") {
  BasicAuth auth({{"alice", bcrypt("right")}});
  CHECK(auth.allow(basic("alice:right").c_str()));
  CHECK(auth.bcrypt_runs() == 1);
  for (int i = 0; i < 5; i++) CHECK(auth.allow(basic("alice:right").c_str()));
  CHECK(auth.bcrypt_runs() == 1);  // from the cache
  for (int i = 0; i < 3; i++) CHECK_FALSE(auth.allow(basic("alice:wrong").c_str()));
  CHECK(auth.bcrypt_runs() == 4);
  CHECK_FALSE(auth.allow(basic("mallory:right").c_str()));
  CHECK(auth.bcrypt_runs() == 5);

  BasicAuth uncached({{"alice", bcrypt("right")}}, false);
  for (int i = 0; i < 3; i++) CHECK(uncached.allow(basic("alice:right").c_str()));
  CHECK(uncached.bcrypt_runs() == 3);
}

TEST_CASE("basic auth: the cache is bounded; the oldest entry goes first", "[webconfig][basicauth]") {
  std::map<std::string, std::string> users;
  const std::string h = bcrypt("pw");
  for (size_t i = 0; i <= BasicAuth::kCacheEntries; i++) users["u" + std::to_string(i)] = h;
  BasicAuth auth(users);
  for (size_t i = 0; i <= BasicAuth::kCacheEntries; i++) CHECK(auth.allow(basic("u" + std::to_string(i) + ":pw").c_str()));
  uint64_t runs = auth.bcrypt_runs();
  CHECK(runs == BasicAuth::kCacheEntries + 1);
  CHECK(auth.allow(basic("u" + std::to_string(BasicAuth::kCacheEntries) + ":pw").c_str()));  // the newest: cached
  CHECK(auth.bcrypt_runs() == runs);
  CHECK(auth.allow(basic("u0:pw").c_str()));  // the oldest: forgotten
  CHECK(auth.bcrypt_runs() == runs + 1);
}
