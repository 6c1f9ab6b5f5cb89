#include "recommend/gate.hpp"

#include <fmt/format.h>

#include "recommend/quantity.hpp"
#include "util/units.hpp"

namespace ow::recommend {
namespace {

uint64_t diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

std::string move_text(const char* what, std::optional<uint64_t> cur, uint64_t to) {
  if (!cur) return fmt::format("{} unknown → {}", what, quantity(to));
  if (*cur == kUnlimited) return fmt::format("{} none → {}", what, quantity(to));
  double pct = *cur ? 100.0 * (static_cast<double>(to) - static_cast<double>(*cur)) / static_cast<double>(*cur) : 100.0;
  return fmt::format("{} {} → {} ({:+.1f} %, {})", what, quantity(*cur), quantity(to), pct, quantity(diff(*cur, to)));
}

}  // namespace

bool passes_hysteresis(std::optional<uint64_t> current, uint64_t proposed, const Rules& r) {
  if (!current || *current == kUnlimited) return true;
  uint64_t d = diff(*current, proposed);
  unsigned __int128 rel = static_cast<unsigned __int128>(d) * 1000, bound = static_cast<unsigned __int128>(*current) * r.hysteresis_pm;
  return rel > bound || d > r.hysteresis_bytes;
}

Decision decide(const Current& cur, const Recommendation& rec, std::optional<int64_t> last_revision_ns, int64_t now_ns,
                const Rules& r) {
  Decision d;
  d.request_changes = passes_hysteresis(cur.request_bytes, rec.request_bytes, r);
  d.limit_changes = passes_hysteresis(cur.limit_bytes, rec.limit_bytes, r);
  std::string moves = move_text("request", cur.request_bytes, rec.request_bytes) + ", " +
                      move_text("limit", cur.limit_bytes, rec.limit_bytes);
  if (!d.request_changes && !d.limit_changes) {
    d.reason = fmt::format("within hysteresis ({} % or {}): {}", r.hysteresis_pm / 10, quantity(r.hysteresis_bytes), moves);
    return d;
  }
  if (last_revision_ns && now_ns - *last_revision_ns < r.cooldown_ns) {
    d.reason = fmt::format("cooldown: last revision {} ago, next one after {} ({})", duration_text(now_ns - *last_revision_ns),
                           duration_text(r.cooldown_ns), moves);
    return d;
  }
  d.propose = true;
  d.reason = moves;
  return d;
}

const char* source_name(Source s) {
  switch (s) {
    case Source::Override: return "override";
    case Source::Enforced: return "enforced";
    case Source::Recommended: return "recommended";
    case Source::Template: return "template";
    case Source::None: break;
  }
  return "none";
}

Chosen choose(const Candidates& c) {
  if (c.override_bytes) return {c.override_bytes, Source::Override};
  if (c.enforced_bytes) return {c.enforced_bytes, Source::Enforced};
  if (c.recommended_bytes) return {c.recommended_bytes, Source::Recommended};
  if (c.template_bytes) return {c.template_bytes, Source::Template};
  return {};
}

}  // namespace ow::recommend
