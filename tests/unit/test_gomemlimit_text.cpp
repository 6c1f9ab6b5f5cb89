// GOMEMLIMIT as the Go runtime reads it from the environment, and the hint
// log line (gomemlimit/env.hpp, gomemlimit/usage_line.hpp).
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "gomemlimit/env.hpp"
#include "gomemlimit/usage_line.hpp"
#include "util/units.hpp"

using namespace ow;

namespace {
constexpr uint64_t MiB = 1ull << 20;
}

TEST_CASE("gomemlimit: GOMEMLIMIT syntax as the Go runtime takes it", "[unit][hints]") {
  struct Row {
    const char* in;
    std::optional<uint64_t> want;
  };
  const Row rows[] = {
      {"1048576", 1048576u},
      {"1048576B", 1048576u},
      {"384MiB", 384 * MiB},
      {"2GiB", 2048 * MiB},
      {"3KiB", 3072u},
      {"1TiB", 1ull << 40},
      {"off", kUnlimited},
      {"", std::nullopt},
      {"384MB", std::nullopt},
      {"384M", std::nullopt},
      {"-1", std::nullopt},
      {" 5", std::nullopt},
      {"MiB", std::nullopt},
      {"9223372036854775808", std::nullopt},  // above int64
      {"8388608TiB", std::nullopt},           // overflows once scaled
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    CHECK(gomemlimit::parse_gomemlimit_env(r.in) == r.want);
  }
}

TEST_CASE("gomemlimit: this process's GOMEMLIMIT as the log line prints it", "[unit][hints]") {
  struct Row {
    const char* env;
    const char* want;
  };
  const Row rows[] = {
      {nullptr, "unset"}, {"", "unset"}, {"off", "off"}, {"402653184", "384MiB"}, {"lots", "invalid(lots)"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.env ? r.env : "(null)");
    CHECK(gomemlimit::describe_env_gomemlimit(r.env) == r.want);
  }
}

TEST_CASE("gomemlimit: the hint log line", "[unit][hints]") {
  struct Row {
    uint64_t limit;
    std::optional<uint64_t> recommended;
    const char* want;
  };
  const Row rows[] = {
      {512 * MiB, 307 * MiB,
       "memory usage stats: cgroup=/x totalUsage=256MiB totalLimit=512MiB ebpfUsage=32MiB currentGOMEMLIMIT=384MiB "
       "recommendedGOMEMLIMIT=307MiB utilizationPercent=50"},
      {kUnlimited, std::nullopt,
       "memory usage stats: cgroup=/x totalUsage=256MiB totalLimit=max ebpfUsage=32MiB currentGOMEMLIMIT=384MiB "
       "recommendedGOMEMLIMIT=none utilizationPercent=n/a"},
      {0, std::nullopt,
       "memory usage stats: cgroup=/x totalUsage=256MiB totalLimit=0B ebpfUsage=32MiB currentGOMEMLIMIT=384MiB "
       "recommendedGOMEMLIMIT=none utilizationPercent=n/a"},
  };
  for (const auto& r : rows) {
    gomemlimit::UsageLine l;
    l.cgroup = "/x";
    l.usage_bytes = 256 * MiB;
    l.limit_bytes = r.limit;
    l.ebpf_bytes = 32 * MiB;
    l.current = "384MiB";
    l.recommended = r.recommended;
    CHECK(gomemlimit::format_usage_line(l) == r.want);
  }
  gomemlimit::UsageLine none;
  none.cgroup = "/y";
  CHECK(gomemlimit::format_usage_line(none).find("currentGOMEMLIMIT=n/a") != std::string::npos);
}
