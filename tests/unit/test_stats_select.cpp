// --cgroup selection, CSV fields, and the `stats` output shapes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "stats/csv.hpp"
#include "stats/report.hpp"
#include "stats/select.hpp"

using namespace ow::stats;

TEST_CASE("a selector picks the cgroup and its descendants, by whole components", "[stats][select]") {
  CHECK(selects("/a", "/a"));
  CHECK(selects("/a", "/a/b/c"));
  CHECK_FALSE(selects("/a", "/ab"));
  CHECK_FALSE(selects("/a/b", "/a"));
  CHECK(selects("/", "/anything"));
  CHECK(selected({}, "/x"));
  CHECK(selected({"/y", "/x"}, "/x/1"));
  CHECK_FALSE(selected({"/y"}, "/x"));
}

TEST_CASE("cgroup arguments normalise to the paths samples carry", "[stats][select]") {
  const std::string mount = "/sys/fs/cgroup/memory";
  CHECK(normalize_cgroup_arg("/sys/fs/cgroup/memory/a/b", mount) == "/a/b");
  CHECK(normalize_cgroup_arg("/sys/fs/cgroup/memory", mount) == "/");
  CHECK(normalize_cgroup_arg("/sys/fs/cgroup/memory/", mount) == "/");
  CHECK(normalize_cgroup_arg("/sys/fs/cgroup/memoryX/a", mount) == "/sys/fs/cgroup/memoryX/a");
  CHECK(normalize_cgroup_arg("a/b/", mount) == "/a/b");
  CHECK(normalize_cgroup_arg("//a//b", "") == "/a/b");
  CHECK(normalize_cgroup_arg("/sys/fs/cgroup/memory/a", "") == "/sys/fs/cgroup/memory/a");  // no hierarchy: as given
  CHECK(normalize_cgroup_arg("/", mount) == "/");
}

TEST_CASE("CSV fields quote only when needed and split back", "[stats][csv]") {
  CHECK(csv_field("/a/b") == "/a/b");
  CHECK(csv_field("/a,b") == "\"/a,b\"");
  CHECK(csv_field("/say \"hi\"") == "\"/say \"\"hi\"\"\"");
  std::string line = csv_field("/a,b") + "," + csv_field("x\"y") + ",,3";
  auto f = csv_split(line);
  REQUIRE(f.ok());
  CHECK(*f == std::vector<std::string>{"/a,b", "x\"y", "", "3"});
  CHECK(*csv_split("a,") == std::vector<std::string>{"a", ""});
  CHECK_FALSE(csv_split("\"open").ok());
  CHECK_FALSE(csv_split("\"a\"b,c").ok());
  CHECK_FALSE(csv_split("a\"b").ok());
}

TEST_CASE("stats JSON: the documented keys, integer bytes, keyed by cgroup", "[stats][report]") {
  StatsByCgroup s;
  s["/a"] = WindowStats{1, 3, 2, 3, 2, 3};
  s["/b,c"] = WindowStats{10, 10, 10, 10, 10, 1};
  std::string out = stats_json(s);
  CHECK(out.find('\n') == std::string::npos);
  CHECK(out.rfind(R"({"/a":{"min_consumption":1,"max_consumption":3,"median_consumption":2,)"
                  R"("p95_consumption":3,"avg_consumption":2,"samples":3})", 0) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["/b,c"]["samples"] == 1);
  CHECK(j["/b,c"]["max_consumption"].is_number_unsigned());
}

TEST_CASE("stats CSV: header, one row per cgroup, quoted paths", "[stats][report]") {
  StatsByCgroup s;
  s["/a"] = WindowStats{1, 3, 2, 3, 2, 3};
  s["/b,c"] = WindowStats{10, 10, 10, 10, 10, 1};
  CHECK(stats_csv(s) ==
        "cgroup,min_consumption,max_consumption,median_consumption,p95_consumption,avg_consumption,samples\n"
        "/a,1,3,2,3,2,3\n"
        "\"/b,c\",10,10,10,10,10,1\n");
}
