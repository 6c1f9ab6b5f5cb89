#include "stress/report_common.hpp"

#include <cmath>
#include <cstdio>

#include "util/units.hpp"

namespace ow::stress {

namespace {
template <class Json>
void put_limit_in(Json& j, uint64_t limit_bytes) {
  if (limit_bytes == kUnlimited) {
    j["limit_bytes"] = nullptr;
    j["limit"] = "max";
  } else {
    j["limit_bytes"] = limit_bytes;
    j["limit"] = format_size(limit_bytes);
  }
}
}  // namespace

void put_limit(nlohmann::json& j, uint64_t limit_bytes) { put_limit_in(j, limit_bytes); }
void put_limit(nlohmann::ordered_json& j, uint64_t limit_bytes) { put_limit_in(j, limit_bytes); }

std::optional<double> percent_of(uint64_t usage_bytes, uint64_t limit_bytes) {
  if (limit_bytes == kUnlimited || limit_bytes == 0) return std::nullopt;
  return std::round(1000.0 * static_cast<double>(usage_bytes) / static_cast<double>(limit_bytes)) / 10.0;
}

nlohmann::json percent_json(uint64_t usage_bytes, uint64_t limit_bytes) {
  auto p = percent_of(usage_bytes, limit_bytes);
  return p ? nlohmann::json(*p) : nlohmann::json(nullptr);
}

std::string usage_text(uint64_t usage_bytes, uint64_t limit_bytes) {
  std::string s = format_size(usage_bytes) + " / " + format_size(limit_bytes);
  if (auto p = percent_of(usage_bytes, limit_bytes)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (%.1f%%)", *p);
    s += buf;
  }
  return s;
}

double round_ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

void put_result_end(nlohmann::json& j, uint64_t limit_bytes, const std::string& error) {
  put_limit(j, limit_bytes);
  if (!error.empty()) j["error"] = error;
}

std::string seconds_text(double seconds, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*fs", decimals, seconds);
  return buf;
}

}  // namespace ow::stress
