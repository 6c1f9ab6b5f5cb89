// Basic authentication for the /metrics server (exporter/web_config.hpp's
// basic_auth_users): user -> bcrypt hash, verified with libxcrypt.
//
// bcrypt is slow on purpose (cost 10: tens of milliseconds of CPU), and a
// scraper sends the same credentials every scrape: a successful
// verification is remembered, as the exporter toolkit does, under a SHA-256
// of the user, the hash and the password (never the password itself), in a
// ring of at most kCacheEntries (the oldest forgotten first). A wrong password is
// never remembered, so each try costs a bcrypt. An unknown user costs a
// bcrypt too (against a configured user's hash, the result ignored), so the
// time of an answer does not tell which users exist; comparisons are
// constant-time. Server thread only.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/noncopyable.hpp"

struct crypt_data;

namespace ow::exporter {

class BasicAuth : NonCopyable {
 public:
  static constexpr size_t kCacheEntries = 100;
  // cache = false: every request runs bcrypt (for measuring what the cache saves).
  explicit BasicAuth(std::map<std::string, std::string> users, bool cache = true);
  ~BasicAuth();
  // authorization: the request's Authorization header (nullptr when it has
  // none). True when it is "Basic base64(user:password)" of a configured
  // user with the password its hash was made from.
  bool allow(const char* authorization);
  uint64_t bcrypt_runs() const { return bcrypt_runs_; }

 private:
  using Key = std::array<unsigned char, 32>;
  bool bcrypt_matches(const std::string& password, const std::string& hash);
  std::map<std::string, std::string> users_;
  bool use_cache_;
  std::vector<Key> cache_;
  size_t next_ = 0;  // the ring's oldest entry once full
  std::unique_ptr<crypt_data> scratch_;
  uint64_t bcrypt_runs_ = 0;
};

// user and password from the value of an Authorization header
// ("Basic base64(user:password)"); false when it is not Basic, not base64,
// has no ':' or a NUL in the password. Pure.
bool decode_basic(const char* authorization, std::string& user, std::string& password);

}  // namespace ow::exporter
