// Sizes near 2^64 (no limit read as a number, a corrupt or hostile figure)
// saturate instead of wrapping to a small one: a wrapped sum would turn an
// enormous usage into a tiny recommended limit, the worst answer there is.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "fleet/aggregate.hpp"
#include "recommend/enforce.hpp"
#include "recommend/rules.hpp"

using namespace ow::recommend;

TEST_CASE("saturation: the rules' arithmetic never wraps", "[recommend]") {
  CHECK(scale_up(UINT64_MAX - 1, 1200) == UINT64_MAX);
  CHECK(scale_up(100, 1200) == 120);
  CHECK(round_up(UINT64_MAX - 5, 16 * kMi) == UINT64_MAX - UINT64_MAX % (16 * kMi));
  CHECK(round_up(17 * kMi, 16 * kMi) == 32 * kMi);
  CHECK(add_sat(UINT64_MAX - 10, 100 * kMi) == UINT64_MAX);
  Input in;
  in.long_window = {64 * kMi, 64 * kMi, 64 * kMi, 100, 3600LL * 1'000'000'000, 3600LL * 1'000'000'000};
  in.oom_used_bytes = UINT64_MAX - 10;  // used + 100Mi wrapped to 100Mi - 11 bytes before
  in.oom_kills = 1;
  auto r = recommend(in);
  CHECK(r.limit_bytes == Rules{}.limit_max_bytes);
  CHECK(r.limit_term.rfind("OOM floor", 0) == 0);
  // Huge working-set figures: clamped to the maxima, never wrapped below them.
  in.oom_used_bytes.reset();
  in.long_window.ws_max_bytes = in.long_window.ws_p95_bytes = in.long_window.ws_avg_bytes = UINT64_MAX - 1;
  auto h = recommend(in);
  CHECK(h.request_bytes == Rules{}.request_max_bytes);
  CHECK(h.limit_bytes == Rules{}.limit_max_bytes);
}

TEST_CASE("saturation: enforcement's usage + margin never wraps", "[recommend]") {
  EnforceInput e;
  e.current_limit_bytes = 1024 * kMi;
  e.recommended_limit_bytes = 800 * kMi;
  e.ws_p95_bytes = 100 * kMi;
  e.usage_bytes = UINT64_MAX - kMi;  // + 32Mi margin wrapped to 31Mi before
  auto s = plan_enforce(e);
  CHECK((!s.change || s.new_limit_bytes >= 1024 * kMi));  // never lowered under that usage
}

TEST_CASE("saturation: Prometheus sample values as bytes", "[fleet]") {
  using ow::fleet::bytes_of;
  CHECK(bytes_of(1e30) == UINT64_MAX);
  CHECK(bytes_of(18446744073709551616.0) == UINT64_MAX);
  CHECK(bytes_of(std::nan("")) == 0);
  CHECK(bytes_of(-5) == 0);
  CHECK(bytes_of(1.6) == 2);
  CHECK(bytes_of(9.3e18) == 9300000000000000000ULL);  // above 2^63: llround's long long gave 2^63
}
