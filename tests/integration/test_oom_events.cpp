// Root, real cgroups: a real allocation past a real limit, and the event
// stream of the real binary reports the victim with its pid and cgroup path.
#include <catch2/catch.hpp>
#include <signal.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "util/fs.hpp"

using namespace ow;

namespace {
// Ever-growing line in memory: charged anon memory without any helper binary.
const std::vector<std::string> kHog = {"sh", "-c", "exec tail /dev/zero"};

std::vector<nlohmann::json> json_lines(const std::string& s) {
  std::vector<nlohmann::json> out;
  for (auto l : split_lines(s)) out.push_back(nlohmann::json::parse(l));
  return out;
}
}  // namespace

TEST_CASE("events --json reports a real OOM kill with pid and cgroup", "[integration][events]") {
  auto cg = owtest::make_cgroup(16ull << 20);
  auto h = owtest::hierarchy();
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", cg.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));

  auto pid = cg::spawn_in(h, cg.path(), kHog);
  REQUIRE(pid.ok());
  auto st = cg::wait_child(*pid);
  CHECK(st.exit_code == 137);
  REQUIRE(owtest::wait_for([&] { return ev->out().find("oom_kill") != std::string::npos; }, 5000));
  ev->stop();
  auto lines = json_lines(ev->out());
  REQUIRE(lines.size() == 1);
  auto& j = lines[0];
  CHECK(j["type"] == "oom_kill");
  CHECK(j["pid"] == *pid);
  CHECK(j["comm"] == "tail");
  CHECK(j["cgroup"] == cg.path());
  CHECK(j["cgroup_id"] == *h.id_of(cg.path()));
  CHECK(j["anon_rss_bytes"].get<uint64_t>() > (8ull << 20));
  CHECK(j["anon_rss_bytes"].get<uint64_t>() <= (16ull << 20));
}

TEST_CASE("events --cgroup filters out kills elsewhere", "[integration][events]") {
  auto watched = owtest::make_cgroup(ow::kUnlimited, "owtest-watched");
  auto other = owtest::make_cgroup(16ull << 20, "owtest-other");
  auto h = owtest::hierarchy();
  auto ev = owtest::start({owtest::oomwatch_bin(), "events", "--json", "--cgroup", watched.path()});
  REQUIRE(owtest::wait_for([&] { return ev->err().find("watching OOM kills") != std::string::npos; }, 15000));
  auto pid = cg::spawn_in(h, other.path(), kHog);
  REQUIRE(pid.ok());
  CHECK(cg::wait_child(*pid).exit_code == 137);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ev->stop();
  CHECK(ev->out().empty());
}

TEST_CASE("events rejects an unknown cgroup", "[integration][events]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "events", "--cgroup", "/no/such/cgroup"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown cgroup /no/such/cgroup") != std::string::npos);
}
