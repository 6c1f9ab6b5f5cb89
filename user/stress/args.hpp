// Flag validation for test-memory, stress-memory and monitor. Pure (the page
// size and MemAvailable are passed in), so every refusal is unit-tested; each
// error names the flag and the value, and the CLI turns it into exit 2.
// size_flag and duration_flag serve other commands' flags too (collect).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stress/limit_test.hpp"
#include "stress/stress_run.hpp"

namespace ow::stress {

// A finite size of at least one page.
Result<uint64_t> size_flag(std::string_view flag, const std::string& text, uint64_t page_bytes);
// A duration; zero only when allow_zero. (Signs never parse.)
Result<std::chrono::nanoseconds> duration_flag(std::string_view flag, const std::string& text, bool allow_zero);
// A run may take min(alloc, limit); refused when that is more than the node
// has available, since nothing but the node's own OOM killer would stop it.
Status check_fits_machine(std::string_view alloc_flag, uint64_t alloc_bytes, uint64_t limit_bytes,
                          uint64_t mem_available_bytes);

// Shortest sampling interval: finer costs CPU and tells nothing new.
inline constexpr std::chrono::milliseconds kMinInterval{10};
// A sampling or cycle period of at least `least` (commands that sample more
// cgroups, or more files each, ask for more); the error names the minimum.
Result<std::chrono::nanoseconds> interval_flag(std::string_view flag, const std::string& text,
                                               std::chrono::nanoseconds least = kMinInterval);
inline constexpr unsigned kMaxWorkers = 64;

struct TestArgs {
  std::string memory;  // "" : no limit of our own
  std::string alloc;
  std::string strategy = "anon";
  std::string step = "4M";
  std::string step_delay = "0s";
  std::string hold = "0s";
  std::string interval = "250ms";
  bool existing_cgroup = false;  // --cgroup: run under that cgroup's own limit
};
struct TestPlan {
  LimitTestConfig cfg;
  uint64_t limit_bytes = 0;  // for the cgroup we create; kUnlimited: none
};
// The machine check is done here unless existing_cgroup (its limit is read later).
Result<TestPlan> parse_test_args(const TestArgs& a, uint64_t page_bytes, uint64_t mem_available_bytes);

struct StressArgs {
  std::string memory;
  std::string target;
  std::string duration;
  std::string strategy = "anon";
  std::string step = "4M";
  std::string interval = "1s";
  std::string cycle = "100ms";
  int workers = 2;
};
struct StressPlan {
  StressConfig cfg;
  uint64_t limit_bytes = 0;
};
Result<StressPlan> parse_stress_args(const StressArgs& a, uint64_t page_bytes, uint64_t mem_available_bytes);

struct MonitorArgs {
  std::string duration;  // "" : until Ctrl-C
  std::string interval = "1s";
};
struct MonitorPlan {
  std::optional<std::chrono::nanoseconds> duration;
  std::chrono::nanoseconds interval{};
};
Result<MonitorPlan> parse_monitor_args(const MonitorArgs& a);

}  // namespace ow::stress
