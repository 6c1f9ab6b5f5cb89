#include "exporter/basic_auth.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include <cctype>
#include <cstring>
#include <string_view>

namespace ow::exporter {
bool decode_basic(const char* authorization, std::string& user, std::string& password) {
  if (!authorization) return false;
  std::string_view v(authorization);
  if (v.size() < 6 || ::strncasecmp(v.data(), "Basic ", 6) != 0) return false;
  v.remove_prefix(6);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v.size() % 4 != 0 || v.size() > 8192) return false;
  for (char ch : v)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '/' || ch == '=')) return false;
  std::string out(v.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(v.data()),
                          static_cast<int>(v.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the padding's zero bytes.
  size_t len = static_cast<size_t>(n) - (v.back() == '=') - (v.size() >= 2 && v[v.size() - 2] == '=');
  out.resize(len);
  auto colon = out.find(':');
  if (colon == std::string::npos) return false;
  user = out.substr(0, colon);
  password = out.substr(colon + 1);
  // crypt(3) reads a C string: a NUL would cut the password short.
  return password.find('\0') == std::string::npos;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, bool cache)
    : users_(std::move(users)), use_cache_(cache), scratch_(std::make_unique<crypt_data>()) {
  // libcrypto (SHA-256, base64) without TLS would initialise itself on first
  // use and read openssl.cnf; as in exporter/tls.cpp, it never does.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
}

BasicAuth::~BasicAuth() {
  OPENSSL_cleanse(scratch_.get(), sizeof(crypt_data));
  for (auto& k : cache_) OPENSSL_cleanse(k.data(), k.size());
}

bool BasicAuth::bcrypt_matches(const std::string& password, const std::string& hash) {
  ++bcrypt_runs_;
  std::memset(scratch_.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), hash.c_str(), scratch_.get(), sizeof(crypt_data));
  bool ok = out && out[0] != '*' && std::strlen(out) == hash.size() && CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(scratch_.get(), sizeof(crypt_data));
  return ok;
}

bool BasicAuth::allow(const char* authorization) {
  std::string user, password;
  if (!decode_basic(authorization, user, password) || users_.empty()) return false;
  auto it = users_.find(user);
  if (it == users_.end()) {
    // An unknown user costs the bcrypt a known one would (the first user's
    // hash, its result ignored): the answer's time does not tell who exists.
    (void)bcrypt_matches(password, users_.begin()->second);
    OPENSSL_cleanse(password.data(), password.size());
    return false;
  }
  Key key{};
  unsigned int len = 0;
  std::string material = user + '\0' + it->second + '\0' + password;
  bool hashed = EVP_Digest(material.data(), material.size(), key.data(), &len, EVP_sha256(), nullptr) == 1;
  OPENSSL_cleanse(material.data(), material.size());
  bool hit = false;
  if (use_cache_ && hashed)
    for (const auto& k : cache_) hit |= CRYPTO_memcmp(k.data(), key.data(), key.size()) == 0;  // no early exit
  bool ok = hit || bcrypt_matches(password, it->second);
  OPENSSL_cleanse(password.data(), password.size());
  if (ok && !hit && use_cache_ && hashed) {
    if (cache_.size() < kCacheEntries)
      cache_.push_back(key);
    else {
      cache_[next_] = key;
      next_ = (next_ + 1) % kCacheEntries;
    }
  }
  return ok;
}

}  // namespace ow::exporter
