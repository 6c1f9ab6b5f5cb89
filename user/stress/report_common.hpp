// Output conventions shared by test-memory, stress-memory and monitor.
// An unlimited cgroup is never shown as a huge number: JSON has
// "limit_bytes": null, "limit": "max" and "percent": null; text shows "max".
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ow::stress {

// Sets "limit_bytes" (number or null) and "limit" ("128MiB" or "max").
void put_limit(nlohmann::json& j, uint64_t limit_bytes);
void put_limit(nlohmann::ordered_json& j, uint64_t limit_bytes);
// usage as a percentage of limit, one decimal; nullopt when unlimited or zero.
std::optional<double> percent_of(uint64_t usage_bytes, uint64_t limit_bytes);
nlohmann::json percent_json(uint64_t usage_bytes, uint64_t limit_bytes);
// "12.0MiB / 64MiB (18.8%)" or "12.0MiB / max"
std::string usage_text(uint64_t usage_bytes, uint64_t limit_bytes);
// Seconds rounded to milliseconds, for "elapsed_s" and "duration_s".
double round_ms(double seconds);
// The end of every "result" object: the limit (put_limit), then "error" when
// the run gave up (error not empty).
void put_result_end(nlohmann::json& j, uint64_t limit_bytes, const std::string& error);
// Seconds with `decimals` decimals and an "s", for the text reports ("12.34s").
std::string seconds_text(double seconds, int decimals);

}  // namespace ow::stress
