// Hysteresis both ways, the cooldown, and precedence of values.
#include <catch2/catch.hpp>

#include "recommend/gate.hpp"
#include "util/units.hpp"

using namespace ow::recommend;

TEST_CASE("hysteresis: more than 20 % or more than 64Mi", "[recommend]") {
  struct Row {
    std::optional<uint64_t> current;
    uint64_t proposed;
    bool passes;
  };
  const Row rows[] = {
      {256 * kMi, 224 * kMi, false},         // -12.5 %, 32Mi
      {256 * kMi, 200 * kMi, true},          // -21.9 %
      {100 * kMi, 120 * kMi, false},         // exactly 20 %: not more
      {100 * kMi, 121 * kMi, true},          // 21 %
      {1024 * kMi, 1088 * kMi, false},       // exactly 64Mi, 6.25 %
      {1024 * kMi, 1088 * kMi + 1, true},    // one byte over 64Mi
      {1024 * kMi, 959 * kMi, true},         // -65Mi
      {std::nullopt, 64 * kMi, true},        // unknown current
      {ow::kUnlimited, 512 * kMi, true},     // no limit now
      {0, 64 * kMi, true},
      {300 * kMi, 300 * kMi, false},
  };
  for (const auto& r : rows) {
    INFO((r.current ? std::to_string(*r.current) : "none") << " -> " << r.proposed);
    CHECK(passes_hysteresis(r.current, r.proposed) == r.passes);
  }
}

TEST_CASE("decide: hysteresis on either figure, then the cooldown", "[recommend]") {
  Recommendation rec;
  rec.request_bytes = 224 * kMi;
  rec.limit_bytes = 336 * kMi;
  const int64_t now = 1'000'000 * kMinuteNs;
  SECTION("both within hysteresis: nothing proposed") {
    auto d = decide({256 * kMi, 320 * kMi}, rec, std::nullopt, now);
    CHECK_FALSE(d.propose);
    CHECK(d.reason.rfind("within hysteresis (20 % or 64Mi)", 0) == 0);
    CHECK(d.reason.find("request 256Mi → 224Mi (-12.5 %, 32Mi)") != std::string::npos);
  }
  SECTION("the limit moves enough") {
    auto d = decide({256 * kMi, 512 * kMi}, rec, std::nullopt, now);
    CHECK(d.propose);
    CHECK_FALSE(d.request_changes);
    CHECK(d.limit_changes);
  }
  SECTION("cooldown: 10 min after the last revision") {
    auto d = decide({256 * kMi, 512 * kMi}, rec, now - 10 * kMinuteNs, now);
    CHECK_FALSE(d.propose);
    CHECK(d.reason.rfind("cooldown: last revision 10m ago, next one after 30m", 0) == 0);
  }
  SECTION("cooldown over at exactly 30 min") {
    CHECK(decide({256 * kMi, 512 * kMi}, rec, now - 30 * kMinuteNs, now).propose);
    CHECK_FALSE(decide({256 * kMi, 512 * kMi}, rec, now - 30 * kMinuteNs + 1, now).propose);
  }
  SECTION("unknown request, no limit") {
    auto d = decide({std::nullopt, ow::kUnlimited}, rec, std::nullopt, now);
    CHECK(d.propose);
    CHECK(d.reason == "request unknown → 224Mi, limit none → 336Mi");
  }
}

TEST_CASE("precedence: override > enforced > recommended > template", "[recommend]") {
  CHECK(choose({1, 2, 3, 4}).source == Source::Override);
  CHECK(*choose({1, 2, 3, 4}).bytes == 1);
  CHECK(choose({std::nullopt, 2, 3, 4}).source == Source::Enforced);
  CHECK(*choose({std::nullopt, 2, 3, 4}).bytes == 2);
  CHECK(choose({std::nullopt, std::nullopt, 3, 4}).source == Source::Recommended);
  CHECK(choose({std::nullopt, std::nullopt, std::nullopt, 4}).source == Source::Template);
  CHECK(*choose({std::nullopt, std::nullopt, std::nullopt, 4}).bytes == 4);
  auto none = choose({});
  CHECK(none.source == Source::None);
  CHECK_FALSE(none.bytes);
  CHECK(std::string(source_name(Source::Enforced)) == "enforced");
}
