// Root, real cgroups: stress-memory holds its target, and above the limit
// keeps the OOM killer busy (anon) or reclaim busy (file), then cleans up.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "util/fs.hpp"

using nlohmann::json;

namespace {
constexpr uint64_t kMiB = 1 << 20;

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}
struct Run {
  std::vector<json> samples;
  json result;
};
Run stress(const std::vector<std::string>& args) {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "stress-memory", "--json", "--interval", "500ms"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = owtest::run(argv, 30);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Run out;
  for (auto l : ow::split_lines(r.out)) {
    auto j = json::parse(l);
    (j["type"] == "sample" ? out.samples.push_back(j) : void(out.result = j));
  }
  REQUIRE(out.result["type"] == "result");
  CHECK_FALSE(exists(owtest::hierarchy().abs(out.result["cgroup"])));
  return out;
}
}  // namespace

TEST_CASE("stress-memory under the limit holds its target with every worker alive",
          "[integration][stress][stress-memory]") {
  auto r = stress({"--memory", "128M", "--target", "64M", "--duration", "2s", "--workers", "2"});
  INFO(r.result.dump());
  REQUIRE(r.samples.size() >= 3);  // every 500ms (4 unless the machine stalls a tick past the end)
  for (const auto& s : r.samples) {
    CHECK(s["limit_bytes"] == 128 * kMiB);
    CHECK(s["workers_alive"] == 2);
  }
  // Chunks are freed and re-charged every cycle, so usage sits a little below.
  CHECK(r.samples.back()["usage_bytes"].get<uint64_t>() >= 64 * kMiB * 8 / 10);
  CHECK(r.samples.back()["held_bytes"] == 64 * kMiB);
  CHECK(r.result["peak_bytes"].get<uint64_t>() >= 64 * kMiB * 9 / 10);
  CHECK(r.result["oom_kills"] == 0);
  CHECK(r.result["worker_kills"] == 0);
  CHECK(r.result["restarts"] == 0);
  CHECK(r.result["interrupted"] == false);
}

TEST_CASE("stress-memory anon above the limit: OOM kills, counted and restarted",
          "[integration][stress][stress-memory]") {
  auto r = stress({"--memory", "48M", "--target", "96M", "--duration", "2s", "--workers", "2", "--strategy", "anon"});
  const auto& j = r.result;
  INFO(j.dump());
  WARN("anon 96MiB in 48MiB for 2s: oom_kills " << j["oom_kills"] << ", worker_kills " << j["worker_kills"]
                                                << ", restarts " << j["restarts"] << ", max_events "
                                                << j["max_events"]);
  CHECK(j["oom_kills"].get<uint64_t>() >= 2);
  CHECK(j["worker_kills"].get<uint64_t>() >= 2);
  CHECK(j["worker_kills"].get<uint64_t>() <= j["oom_kills"].get<uint64_t>());
  CHECK(j["restarts"].get<uint64_t>() >= 1);
  CHECK(j["max_events"].get<uint64_t>() > 0);
  CHECK(j["worker_failures"] == 0);
  CHECK(j["peak_bytes"].get<uint64_t>() >= 48 * kMiB * 9 / 10);
  CHECK(j["peak_bytes"].get<uint64_t>() <= 48 * kMiB);
  // The sample counters only ever grow.
  uint64_t last = 0;
  for (const auto& s : r.samples) {
    CHECK(s["oom_kills"].get<uint64_t>() >= last);
    last = s["oom_kills"];
  }
}

// 5 s, not 2 s: writing and syncing 48 MiB of file pages to reach the limit
// took 2-3 s in the VM tier (qemu TCG, NVMe scratch disk); a 2 s run there
// sometimes ended at 36 MiB, never touching the limit.
TEST_CASE("stress-memory file above the limit: reclaim, no OOM kill", "[integration][stress][stress-memory]") {
  auto r = stress({"--memory", "48M", "--target", "96M", "--duration", "5s", "--workers", "2", "--strategy", "file"});
  const auto& j = r.result;
  INFO(j.dump());
  WARN("file 96MiB in 48MiB for 5s: oom_kills " << j["oom_kills"] << ", max_events " << j["max_events"]);
  CHECK(j["oom_kills"] == 0);
  CHECK(j["worker_kills"] == 0);
  CHECK(j["max_events"].get<uint64_t>() > 0);  // it did press on the limit
  CHECK(r.samples.back()["usage_bytes"].get<uint64_t>() >= 48 * kMiB * 8 / 10);
}
