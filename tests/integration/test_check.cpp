#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "helpers.hpp"

TEST_CASE("check --json says the agent can run here and why", "[integration][check]") {
  auto r = owtest::run({owtest::oomwatch_bin(), "check", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["can_run"] == true);
  bool hook = false, cgroup = false;
  for (const auto& i : j["items"]) {
    if (i["name"] == "tracepoint mark_victim") hook = i["status"] == "ok";
    if (i["name"] == "cgroup") cgroup = i["status"] == "ok";
  }
  CHECK(hook);
  CHECK(cgroup);
}
