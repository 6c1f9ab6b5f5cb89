// Flag validation of test-memory, stress-memory and monitor (pure), the
// strategy names, and MemAvailable parsing.
#include <catch2/catch.hpp>

#include "stress/args.hpp"
#include "stress/meminfo.hpp"
#include "util/units.hpp"

using namespace ow::stress;
using namespace std::chrono_literals;

namespace {
constexpr uint64_t kPage = 4096;
constexpr uint64_t kAvail = 8ull << 30;

TestArgs test_args(std::string alloc, std::string memory = "") {
  TestArgs a;
  a.alloc = std::move(alloc);
  a.memory = std::move(memory);
  return a;
}

std::string test_error(const TestArgs& a, uint64_t avail = kAvail) {
  auto r = parse_test_args(a, kPage, avail);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}
}  // namespace

TEST_CASE("strategies parse by name and only file is reclaimable", "[stress][args]") {
  CHECK(*parse_strategy("anon") == Strategy::Anon);
  CHECK(*parse_strategy("file") == Strategy::File);
  CHECK(*parse_strategy("shmem") == Strategy::Shmem);
  CHECK(*parse_strategy("mixed") == Strategy::Mixed);
  for (auto s : {Strategy::Anon, Strategy::File, Strategy::Shmem, Strategy::Mixed})
    CHECK(*parse_strategy(strategy_name(s)) == s);
  auto bad = parse_strategy("tmpfs");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("tmpfs") != std::string::npos);
  CHECK_FALSE(parse_strategy("ANON").ok());
  CHECK(reclaimable_without_swap(Kind::File));
  CHECK_FALSE(reclaimable_without_swap(Kind::Anon));
  CHECK_FALSE(reclaimable_without_swap(Kind::Shmem));
  CHECK(uses_kind(Strategy::Mixed, Kind::File));
  CHECK_FALSE(uses_kind(Strategy::Anon, Kind::File));
}

TEST_CASE("test-memory flags: defaults and values", "[stress][args]") {
  auto r = parse_test_args(test_args("48M", "128M"), kPage, kAvail);
  REQUIRE(r.ok());
  CHECK(r->cfg.alloc_bytes == 48ull << 20);
  CHECK(r->limit_bytes == 128ull << 20);
  CHECK(r->cfg.strategy == Strategy::Anon);
  CHECK(r->cfg.step_bytes == 4ull << 20);
  CHECK(r->cfg.hold == 0s);
  CHECK(r->cfg.interval == 250ms);
  CHECK(r->cfg.fresh_cgroup);

  auto a = test_args("1G");
  a.strategy = "shmem";
  a.step = "64K";
  a.hold = "2s";
  a.step_delay = "50ms";
  auto u = parse_test_args(a, kPage, kAvail);
  REQUIRE(u.ok());
  CHECK(u->limit_bytes == ow::kUnlimited);  // no --memory: no limit of our own
  CHECK(u->cfg.strategy == Strategy::Shmem);
  CHECK(u->cfg.step_bytes == 64 << 10);
  CHECK(u->cfg.hold == 2s);
  CHECK(u->cfg.step_delay == 50ms);
}

TEST_CASE("test-memory refuses bad sizes naming flag and value", "[stress][args]") {
  CHECK(test_error(test_args("100")).find("--alloc 100: must be at least one page") != std::string::npos);
  CHECK(test_error(test_args("-5M")).find("'-5M'") != std::string::npos);
  CHECK(test_error(test_args("12X")).find("--alloc") != std::string::npos);
  CHECK(test_error(test_args("max")).find("finite") != std::string::npos);
  CHECK(test_error(test_args("")).find("--alloc") != std::string::npos);
  CHECK(test_error(test_args("48M", "2K")).find("--memory 2K") != std::string::npos);
  auto a = test_args("48M", "128M");
  a.step = "0";
  CHECK(test_error(a).find("--step 0") != std::string::npos);
  a = test_args("48M", "128M");
  a.strategy = "ram";
  CHECK(test_error(a).find("--strategy") != std::string::npos);
  a = test_args("48M", "128M");
  a.interval = "1ms";
  CHECK(test_error(a).find("--interval 1ms") != std::string::npos);
  a = test_args("48M", "128M");
  a.hold = "-1s";
  CHECK(test_error(a).find("--hold") != std::string::npos);
}

TEST_CASE("test-memory refuses more than MemAvailable unless a limit caps it", "[stress][args]") {
  uint64_t avail = 1ull << 30;
  auto e = test_error(test_args("2G"), avail);
  CHECK(e.find("MemAvailable 1GiB") != std::string::npos);
  CHECK(e.find("--memory") != std::string::npos);
  // A limit below MemAvailable protects the node: the run may ask for more.
  CHECK(parse_test_args(test_args("2G", "256M"), kPage, avail).ok());
  // A limit above MemAvailable protects nothing.
  CHECK_FALSE(parse_test_args(test_args("2G", "4G"), kPage, avail).ok());
  CHECK(parse_test_args(test_args("1G"), kPage, avail).ok());
  // In an existing cgroup the check waits for that cgroup's limit.
  auto in = test_args("2G");
  in.existing_cgroup = true;
  CHECK(parse_test_args(in, kPage, avail).ok());
  CHECK(check_fits_machine("--alloc", 2ull << 30, ow::kUnlimited, avail).error().message().find("--alloc 2GiB") == 0);
  CHECK(check_fits_machine("--alloc", 2ull << 30, 512ull << 20, avail).ok());
}

TEST_CASE("test-memory: --memory and --cgroup exclude each other", "[stress][args]") {
  auto a = test_args("48M", "128M");
  a.existing_cgroup = true;
  CHECK(test_error(a).find("--cgroup") != std::string::npos);
  a.memory.clear();
  auto r = parse_test_args(a, kPage, kAvail);
  REQUIRE(r.ok());
  CHECK_FALSE(r->cfg.fresh_cgroup);
}

TEST_CASE("stress-memory flags", "[stress][args]") {
  StressArgs a;
  a.memory = "128M";
  a.target = "96M";
  a.duration = "10s";
  auto r = parse_stress_args(a, kPage, kAvail);
  REQUIRE(r.ok());
  CHECK(r->limit_bytes == 128ull << 20);
  CHECK(r->cfg.target_bytes == 96ull << 20);
  CHECK(r->cfg.workers == 2);
  CHECK(r->cfg.duration == 10s);
  CHECK(r->cfg.interval == 1s);
  CHECK(r->cfg.cycle_period == 100ms);

  auto bad = [&](StressArgs b, const std::string& needle) {
    auto e = parse_stress_args(b, kPage, kAvail);
    REQUIRE_FALSE(e.ok());
    INFO(e.error().message());
    CHECK(e.error().message().find(needle) != std::string::npos);
  };
  auto b = a;
  b.workers = 0;
  bad(b, "--workers 0");
  b.workers = -3;
  bad(b, "--workers -3");
  b.workers = 65;
  bad(b, "--workers 65");
  b = a;
  b.target = "8K";
  b.workers = 4;
  bad(b, "less than one page per worker");
  b = a;
  b.duration = "0s";
  bad(b, "--duration 0s");
  b = a;
  b.duration = "forever";
  bad(b, "forever");
  b = a;
  b.memory = "16G";
  b.target = "16G";
  bad(b, "MemAvailable");
  b = a;
  b.strategy = "swap";
  bad(b, "swap");
}

TEST_CASE("monitor flags", "[stress][args]") {
  auto r = parse_monitor_args({});
  REQUIRE(r.ok());
  CHECK_FALSE(r->duration.has_value());
  CHECK(r->interval == 1s);
  auto d = parse_monitor_args({"30s", "200ms"});
  REQUIRE(d.ok());
  CHECK(*d->duration == 30s);
  CHECK(d->interval == 200ms);
  CHECK_FALSE(parse_monitor_args({"", "0s"}).ok());
  CHECK_FALSE(parse_monitor_args({"0s", "1s"}).ok());
  CHECK_FALSE(parse_monitor_args({"-3s", "1s"}).ok());
}

TEST_CASE("MemAvailable parses from meminfo in bytes", "[stress][meminfo]") {
  const char* text =
      "MemTotal:       24684092 kB\n"
      "MemFree:        20838544 kB\n"
      "MemAvailable:   21188232 kB\n"
      "Buffers:          123456 kB\n";
  CHECK(parse_mem_available(text) == 21188232ull * 1024);
  CHECK_FALSE(parse_mem_available("MemTotal: 1 kB\n").has_value());
  CHECK_FALSE(parse_mem_available("MemAvailable: lots kB\n").has_value());
  CHECK_FALSE(parse_mem_available("MemAvailable: 18014398509481984 kB\n").has_value());  // would wrap
  auto real = read_mem_available();
  REQUIRE(real.ok());
  CHECK(*real > 0);
}
