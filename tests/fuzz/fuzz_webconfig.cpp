// libFuzzer target: the /metrics web config (exporter::parse_web_config, YAML via
// yaml-cpp) and the Authorization header any client sends
// (exporter::decode_basic). Both are refused with one line or a false, never a
// crash or a throw; what the config accepts holds the invariants the server
// relies on. The first input byte picks which one is fed.
#include <cstdint>
#include <string>

#include "exporter/basic_auth.hpp"
#include "exporter/web_config.hpp"
#include "fuzz_check.hpp"

using namespace ow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    std::string user, password;
    if (exporter::decode_basic(text.c_str(), user, password)) {
      CHECK(user.find(':') == std::string::npos);
      CHECK(password.find('\0') == std::string::npos);
    }
    return 0;
  }
  auto r = exporter::parse_web_config(text, "/etc/ow");
  if (!r) {
    CHECK(r.error().usage);
    CHECK(r.error().message().find('\n') == std::string::npos);  // one line
    return 0;
  }
  if (r->tls) CHECK(!r->cert_file.empty() && !r->key_file.empty());
  if (r->client_auth == exporter::ClientAuth::require_and_verify) CHECK(!r->client_ca_file.empty());
  for (const auto& [u, h] : r->users) CHECK(!u.empty() && u.find(':') == std::string::npos && h.size() == 60);
  return 0;
}
