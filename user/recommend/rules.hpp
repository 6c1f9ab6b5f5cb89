// Memory request/limit recommendation rules. Pure: figures in, figures and a
// rationale out; no I/O, no clock.
//
//   request = max(ws_p95 × 1.20, ws_avg × 1.50, 64Mi), rounded up to 16Mi,
//             clamped to [request_min, request_max] (64Mi, 4Gi);
//   limit   = max(ws_max × 1.10, request × 1.50[, OOM floor]), rounded up to
//             16Mi, clamped to [limit_min, limit_max] (128Mi, 8Gi), never
//             below the request.
//   RSS floor: the request is raised (before the clamps) to the RSS at the
//             same percentile as ws_p95, the limit to the largest RSS, each
//             rounded up: anonymous memory no reclaim can free, which a
//             working set that leaves page cache out can understate.
//   OOM floor: an OOM kill inside the window adds the term
//             max(used + 100Mi, used × 1.20), used = usage at the kill.
//   Confidence: "low" when the long window holds less than half its length
//             of data or less than 30 min; then the p95 and max margins are
//             widened by 0.20 (1.40 and 1.30) instead of trusting few samples.
// Factors are kept in per-mille so 160Mi × 1.20 is exactly 192Mi: doubles
// would land a byte above and round up to the next 16Mi.
// The ws_* figures are the larger of the long and the short window's (the
// short one reacts to recent growth; the long one keeps it stable), and the
// rationale says which window decided.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace ow::recommend {

inline constexpr uint64_t kMi = 1ull << 20;
inline constexpr uint64_t kGi = 1ull << 30;
inline constexpr int64_t kMinuteNs = 60LL * 1'000'000'000;

struct Rules {
  // The percentile the ws_p95 figures hold (per-mille, nearest rank): it only
  // names the term here; the figures are computed by whoever fills Input.
  uint32_t percentile_pm = 950;
  uint32_t request_p95_pm = 1200, request_avg_pm = 1500;  // × 1.20, × 1.50
  uint64_t request_floor_bytes = 64 * kMi;                // the constant term
  uint32_t limit_max_pm = 1100, limit_request_pm = 1500;  // × 1.10, × 1.50
  uint64_t round_bytes = 16 * kMi;
  uint64_t request_min_bytes = 64 * kMi, request_max_bytes = 4 * kGi;
  uint64_t limit_min_bytes = 128 * kMi, limit_max_bytes = 8 * kGi;
  uint32_t hysteresis_pm = 200;                           // 20 %
  uint64_t hysteresis_bytes = 64 * kMi;
  int64_t cooldown_ns = 30 * kMinuteNs;
  uint64_t oom_add_bytes = 100 * kMi;
  uint32_t oom_pm = 1200;                                 // × 1.20
  int64_t trust_min_ns = 30 * kMinuteNs;                  // less data: low confidence
  uint32_t low_confidence_extra_pm = 200;                 // + 0.20 on p95 and max margins
};

// One window's working-set figures.
struct WindowFigures {
  uint64_t ws_avg_bytes = 0, ws_p95_bytes = 0, ws_max_bytes = 0;
  uint64_t samples = 0;
  int64_t window_ns = 0;   // the length asked for
  int64_t covered_ns = 0;  // last - first sample inside it
};

struct Input {
  WindowFigures long_window;
  std::optional<WindowFigures> short_window;
  std::optional<uint64_t> oom_used_bytes;  // usage at the last OOM kill inside the long window
  uint64_t oom_kills = 0;                  // OOM kills at this cgroup's limit inside the long window
  // RSS (anonymous memory) in the long window: at the ws percentile, and its largest.
  std::optional<uint64_t> rss_p95_bytes, rss_max_bytes;
  // Names both RSS figures in the rationale when they are one reading (a
  // node's memory.stat now: "anon now"); empty: rss_p95 and rss_max.
  std::string rss_name;
};

enum class Confidence { High, Low };
const char* confidence_name(Confidence c);

struct Recommendation {
  uint64_t request_bytes = 0, limit_bytes = 0;
  std::string request_term, limit_term;  // the max term that decided: "ws_p95 × 1.20"
  bool request_rss_floor = false, limit_rss_floor = false;  // the RSS floor raised the figure
  Confidence confidence = Confidence::High;
  std::string confidence_reason;         // empty when high
  std::string rationale;                 // one line: each figure, its term, rounding, clamps
};

// "ws_p95", "ws_p99", "ws_p99.5": the percentile figure's name.
std::string percentile_name(uint32_t pm);

// Rules whose clamps contradict each other (min > max, zero rounding) -> message, else empty.
std::string check_rules(const Rules& r);

// Requires long_window.samples > 0 and check_rules(r) empty.
Recommendation recommend(const Input& in, const Rules& r = {});

// ceil(bytes × pm / 1000), exact; saturates at UINT64_MAX, as do the others:
// a size near 2^64 (no limit, a corrupt figure) never wraps to a small one.
uint64_t scale_up(uint64_t bytes, uint32_t pm);
uint64_t round_up(uint64_t bytes, uint64_t step);  // the largest multiple of step when it would overflow
uint64_t add_sat(uint64_t a, uint64_t b);
// "186.7Mi": one decimal of MiB, for rationales.
std::string mib_text(uint64_t bytes);
// 1200 -> "1.20"
std::string factor_text(uint32_t pm);

}  // namespace ow::recommend
