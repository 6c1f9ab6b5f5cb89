// libFuzzer target: config::parse_config (the `oomwatch run --config` TOML, via
// toml++). A file is user input: it may be refused with a "FILE:LINE: KEY:
// problem" message, never crash or throw, and what it accepts must hold the
// invariants the agent relies on.
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/units.hpp"
#include "fuzz_check.hpp"

using namespace ow;


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string name = "fuzz.toml";
  auto r = config::parse_config(text, name);
  if (!r) {
    CHECK(r.error().message().rfind(name + ":", 0) == 0);
    return 0;
  }
  const config::Config& c = *r;
  CHECK(c.interval_ns > 0 && c.gomemlimit_interval_ns > 0 && c.v1_pause_deadline_ns > 0);
  CHECK(c.cooldown_ns >= 0);
  CHECK(c.min_step_bytes != 0 && c.min_step_bytes != kUnlimited);
  CHECK(c.reserve_fraction >= 0 && c.reserve_fraction < 1);
  CHECK(c.reserve_fraction == 0 || c.reserve_bytes == 0);
  CHECK(c.reserve_bytes != kUnlimited);
  CHECK(c.log_level == "debug" || c.log_level == "info" || c.log_level == "warn" || c.log_level == "error");
  for (const auto& m : c.manage) CHECK(!m.empty());
  CHECK(!c.audit_log.empty() && !c.db.empty());
  std::set<std::string> paths;
  for (const auto& e : c.cgroups) {
    CHECK(!e.path.empty());
    CHECK(paths.insert(e.path).second);
    CHECK(e.policy.floor_bytes <= e.policy.ceiling_bytes);
    CHECK(e.policy.floor_bytes != kUnlimited);
    CHECK(e.policy.priority >= -1'000'000 && e.policy.priority <= 1'000'000);
    CHECK(e.line > 0);
  }
  // What the agent derives from the file (pure).
  auto p = config::to_params(c);
  CHECK(p.min_step_bytes == c.min_step_bytes);
  for (const auto& e : c.cgroups) CHECK(config::cgroup_policy(c, e.path).floor_bytes == e.policy.floor_bytes);
  return 0;
}
