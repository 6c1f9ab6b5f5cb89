// Kubernetes quantities both ways, and durations for rationales.
#include <catch2/catch.hpp>

#include "recommend/quantity.hpp"

using namespace ow::recommend;

TEST_CASE("quantities: format with the largest exact binary suffix", "[recommend]") {
  CHECK(quantity(224ull << 20) == "224Mi");
  CHECK(quantity(1ull << 30) == "1Gi");
  CHECK(quantity(1536ull << 10) == "1536Ki");
  CHECK(quantity(1000) == "1000");
  CHECK(quantity(0) == "0");
  CHECK(quantity(4ull << 30) == "4Gi");
}

TEST_CASE("quantities: parse what kubectl prints", "[recommend]") {
  struct Row {
    const char* text;
    uint64_t bytes;
  };
  const Row ok[] = {{"256Mi", 256ull << 20}, {"1Gi", 1ull << 30},     {"1.5Gi", 3ull << 29}, {"500M", 500'000'000},
                    {"129e6", 129'000'000},  {"128974848", 128974848}, {"1k", 1000},         {"100m", 1},
                    {"0", 0},                {"2Ti", 2ull << 40}};
  for (const auto& r : ok) {
    INFO(r.text);
    auto q = parse_quantity(r.text);
    REQUIRE(q.ok());
    CHECK(*q == r.bytes);
  }
  for (const char* bad : {"", "Mi", "12Q", "1e", "1e99", "1e90000000000000000", "-5Mi", "1.2.3Mi", "99999999999999999999Ei"}) {
    INFO(bad);
    auto q = parse_quantity(bad);
    REQUIRE_FALSE(q.ok());
    CHECK(q.error().message().find("bad quantity") == 0);
  }
}

TEST_CASE("durations for rationales", "[recommend]") {
  constexpr int64_t s = 1'000'000'000;
  CHECK(duration_text(0) == "0s");
  CHECK(duration_text(750 * s) == "12m30s");
  CHECK(duration_text(86400 * s) == "24h");
  CHECK(duration_text(3720 * s) == "1h2m");
}
