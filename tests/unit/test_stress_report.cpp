// Output formats of test-memory, stress-memory and monitor: the documented
// keys, and "max" (never a huge number) for an unlimited cgroup.
#include <catch2/catch.hpp>

#include "stress/limit_report.hpp"
#include "stress/monitor_report.hpp"
#include "stress/report_common.hpp"
#include "stress/stress_report.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

using namespace ow::stress;

TEST_CASE("limits: number and size when set, null and max when unlimited", "[stress][report]") {
  nlohmann::json j;
  put_limit(j, 64ull << 20);
  CHECK(j["limit_bytes"] == 64ull << 20);
  CHECK(j["limit"] == "64MiB");
  put_limit(j, ow::kUnlimited);
  CHECK(j["limit_bytes"].is_null());
  CHECK(j["limit"] == "max");
  CHECK(percent_of(16ull << 20, 64ull << 20) == 25.0);
  CHECK(percent_of(1, 3) == 33.3);
  CHECK_FALSE(percent_of(5, ow::kUnlimited).has_value());
  CHECK(usage_text(16ull << 20, 64ull << 20) == "16MiB / 64MiB (25.0%)");
  CHECK(usage_text(16ull << 20, ow::kUnlimited) == "16MiB / max");
}

TEST_CASE("test-memory result carries the contract keys", "[stress][report]") {
  LimitTestResult r;
  r.strategy = Strategy::Shmem;
  r.limit_bytes = 64ull << 20;
  r.alloc_bytes = 128ull << 20;
  r.allocated_bytes = 60ull << 20;
  r.peak_bytes = 64ull << 20;
  r.peak_from_watermark = true;
  r.oom_killed = true;
  r.oom_kills = 1;
  r.exit_code = 137;
  r.duration_s = 0.12345;
  auto j = result_json(r, "/a/b");
  for (const char* k : {"limit_bytes", "alloc_bytes", "peak_bytes", "oom_killed", "exit_code", "strategy", "duration_s"})
    CHECK(j.contains(k));
  CHECK(j["type"] == "result");
  CHECK(j["strategy"] == "shmem");
  CHECK(j["oom_killed"] == true);
  CHECK(j["exit_code"] == 137);
  CHECK(j["duration_s"] == 0.123);
  CHECK(j["peak_source"] == "watermark");
  CHECK(j["cgroup"] == "/a/b");
  CHECK_FALSE(j.contains("error"));
  auto text = result_text(r, "/a/b");
  CHECK(text.find("OOM-killed") != std::string::npos);
  CHECK(text.find("cannot be reclaimed without swap") != std::string::npos);
  CHECK(text.find("100.0% of the limit") != std::string::npos);

  r.limit_bytes = ow::kUnlimited;
  r.oom_killed = false;
  r.exit_code = 137;  // SIGKILL without an OOM count
  auto u = result_json(r, "/a/b");
  CHECK(u["limit_bytes"].is_null());
  CHECK(u["limit"] == "max");
  CHECK(result_text(r, "/a/b").find("killed by something else") != std::string::npos);
  CHECK(result_text(r, "/a/b").find("limit max") != std::string::npos);

  r.exit_code = 1;
  r.error = "worker: mmap: Cannot allocate memory";
  CHECK(result_json(r, "/x")["error"] == r.error);
}

TEST_CASE("test-memory progress names the cgroup and the worker", "[stress][report]") {
  LimitTestConfig cfg;
  cfg.alloc_bytes = 48ull << 20;
  cfg.strategy = Strategy::File;
  LimitTestProgress p;
  p.worker_pid = 42;
  p.phase = "allocating";
  p.allocated_bytes = 8ull << 20;
  p.usage.usage_bytes = 9ull << 20;
  p.usage.limit_bytes = ow::kUnlimited;
  auto j = progress_json(p, cfg, "/t");
  CHECK(j["type"] == "progress");
  CHECK(j["cgroup"] == "/t");
  CHECK(j["worker_pid"] == 42);
  CHECK(j["allocated_bytes"] == 8ull << 20);
  CHECK(j["usage_bytes"] == 9ull << 20);
  CHECK(j["limit_bytes"].is_null());
  CHECK(j["percent"].is_null());
  CHECK(progress_text(p, cfg).find("8MiB/48MiB") != std::string::npos);
}

TEST_CASE("stress output counts kills and restarts", "[stress][report]") {
  StressTally t;
  t.on_worker_end({137, true, 9});
  t.on_restart();
  StressSample s;
  s.usage.usage_bytes = 32ull << 20;
  s.usage.limit_bytes = 48ull << 20;
  s.workers_alive = 1;
  s.oom_kills = 1;
  s.tally = &t;
  auto j = sample_json(s, "/s");
  CHECK(j["worker_kills"] == 1);
  CHECK(j["restarts"] == 1);
  CHECK(j["percent"] == 66.7);
  StressResult r;
  r.limit_bytes = 48ull << 20;
  r.worker_kills = 3;
  auto rj = result_json(r, "/s");
  CHECK(rj["type"] == "result");
  CHECK(rj["worker_kills"] == 3);
  CHECK(result_text(r, "/s").find("workers killed 3") != std::string::npos);
}

TEST_CASE("monitor: v1 lacks some counters, unlimited is max", "[stress][report]") {
  MonitorSample s;
  s.cgroup = "/m";
  s.version = ow::cg::Version::V1;
  s.ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  s.usage.usage_bytes = 1 << 20;
  s.usage.limit_bytes = ow::kUnlimited;
  s.usage.events.max = 7;
  s.usage.events.oom_kill = 2;
  s.usage.events.under_oom = true;
  auto j = monitor_json(s);
  CHECK(j["ts"] == "2023-11-14T22:13:20.123Z");
  CHECK(j["limit_bytes"].is_null());
  CHECK(j["limit"] == "max");
  CHECK(j["percent"].is_null());
  CHECK(j["events"]["max"] == 7);
  CHECK(j["events"]["oom_kill"] == 2);
  CHECK(j["events"]["oom"].is_null());
  CHECK(j["under_oom"] == true);
  auto t = monitor_text(s);
  CHECK(t.find("1MiB / max") != std::string::npos);
  CHECK(t.find("failcnt 7") != std::string::npos);
  CHECK(t.find("UNDER OOM") != std::string::npos);
  CHECK(t.find("18446744073709551615") == std::string::npos);

  s.version = ow::cg::Version::V2;
  s.usage.limit_bytes = 4ull << 20;
  s.usage.events.oom = 3;
  auto v2 = monitor_json(s);
  CHECK(v2["events"]["oom"] == 3);
  CHECK(v2["under_oom"].is_null());
  CHECK(v2["percent"] == 25.0);
  CHECK(monitor_text(s).find("max 7  oom 3") != std::string::npos);
}

TEST_CASE("monitor --json keys come out in the documented order, type first", "[stress][report]") {
  MonitorSample s;
  s.cgroup = "/m";
  s.version = ow::cg::Version::V2;
  s.usage.limit_bytes = ow::kUnlimited;
  auto j = monitor_json(s);
  std::string line = ow::json_line(j);
  CHECK(line.rfind("{\"type\":\"sample\",\"ts\":", 0) == 0);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"type", "ts", "elapsed_s", "cgroup", "version", "usage_bytes", "limit_bytes",
                                         "limit", "percent", "peak_bytes", "events", "under_oom"});
  CHECK(line.find("\"events\":{\"max\":0,\"oom\":0,\"oom_kill\":0,") != std::string::npos);
}
