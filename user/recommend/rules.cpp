#include "recommend/rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "recommend/quantity.hpp"

namespace ow::recommend {
namespace {

struct Term {
  std::string name;
  uint64_t bytes;
};

// First of the largest: ties go to the term listed first.
const Term& largest(const std::vector<Term>& terms) {
  const Term* best = &terms.front();
  for (const auto& t : terms)
    if (t.bytes > best->bytes) best = &t;
  return *best;
}

// "<what> = <term> = 186.7Mi, rounded up to 16Mi → 192Mi[, raised ...][, clamped ...]"
// floored: the figure after the RSS floor (== rounded when it did not decide).
std::string explain(const char* what, const Term& t, uint64_t rounded, uint64_t floored, const std::string& rss_note,
                    uint64_t final_bytes, uint64_t lo, uint64_t hi, uint64_t round_bytes,
                    const char* floor_note = nullptr) {
  std::string s = fmt::format("{} = {} = {}", what, t.name, mib_text(t.bytes));
  s += rounded == t.bytes ? fmt::format(", a multiple of {}", quantity(round_bytes))
                          : fmt::format(", rounded up to {} → {}", quantity(round_bytes), quantity(rounded));
  if (floored != rounded) s += fmt::format(", raised to {} ({})", quantity(floored), rss_note);
  if (final_bytes != floored) {
    if (floor_note)
      s += fmt::format(", raised to {} ({})", quantity(final_bytes), floor_note);
    else if (final_bytes == lo)
      s += fmt::format(", clamped to the {} minimum", quantity(lo));
    else if (final_bytes == hi)
      s += fmt::format(", clamped to the {} maximum", quantity(hi));
  }
  return s;
}

}  // namespace

const char* confidence_name(Confidence c) { return c == Confidence::High ? "high" : "low"; }

uint64_t scale_up(uint64_t bytes, uint32_t pm) {
  unsigned __int128 p = (static_cast<unsigned __int128>(bytes) * pm + 999) / 1000;
  return p > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(p);
}

uint64_t round_up(uint64_t bytes, uint64_t step) {
  unsigned __int128 q = (static_cast<unsigned __int128>(bytes) + step - 1) / step * step;
  return q > UINT64_MAX ? UINT64_MAX - UINT64_MAX % step : static_cast<uint64_t>(q);
}

uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

std::string mib_text(uint64_t bytes) { return fmt::format("{:.1f}Mi", static_cast<double>(bytes) / kMi); }

std::string factor_text(uint32_t pm) { return fmt::format("{}.{:02}", pm / 1000, (pm % 1000) / 10); }

std::string percentile_name(uint32_t pm) {
  return pm % 10 ? fmt::format("ws_p{}.{}", pm / 10, pm % 10) : fmt::format("ws_p{}", pm / 10);
}

std::string check_rules(const Rules& r) {
  if (r.round_bytes == 0) return "rounding step must be positive";
  if (r.percentile_pm < 500 || r.percentile_pm > 1000)
    return fmt::format("percentile {} is not between 0.5 and 1", r.percentile_pm / 1000.0);
  if (r.request_p95_pm < 1000 || r.request_p95_pm > 10000 || r.limit_max_pm < 1000 || r.limit_max_pm > 10000)
    return "margins must be between 1 and 10";
  if (r.request_min_bytes > r.request_max_bytes)
    return "request minimum " + quantity(r.request_min_bytes) + " is above its maximum " + quantity(r.request_max_bytes);
  if (r.limit_min_bytes > r.limit_max_bytes)
    return "limit minimum " + quantity(r.limit_min_bytes) + " is above its maximum " + quantity(r.limit_max_bytes);
  if (r.request_min_bytes > r.limit_max_bytes)
    return "request minimum " + quantity(r.request_min_bytes) + " is above the limit maximum " + quantity(r.limit_max_bytes);
  return {};
}

Recommendation recommend(const Input& in, const Rules& r) {
  Recommendation out;
  const WindowFigures& lw = in.long_window;
  uint32_t p95_pm = r.request_p95_pm, max_pm = r.limit_max_pm;
  if (lw.covered_ns < lw.window_ns / 2 || lw.covered_ns < r.trust_min_ns) {
    out.confidence = Confidence::Low;
    p95_pm += r.low_confidence_extra_pm;
    max_pm += r.low_confidence_extra_pm;
    out.confidence_reason =
        fmt::format("{} of data in a {} window (trusted from {} and half the window): margins widened to ws_p95 × {}, "
                    "ws_max × {}",
                    duration_text(lw.covered_ns), duration_text(lw.window_ns),
                    duration_text(r.trust_min_ns), factor_text(p95_pm), factor_text(max_pm));
  }
  // Per figure, the larger of the two windows, named when the short one won.
  auto pick = [&](uint64_t WindowFigures::*f, const char* name) {
    if (in.short_window && (*in.short_window).*f > lw.*f)
      return std::pair<std::string, uint64_t>(std::string(name) + " (short window)", (*in.short_window).*f);
    return std::pair<std::string, uint64_t>(name, lw.*f);
  };
  const std::string pname = percentile_name(r.percentile_pm);
  auto [p95_name, p95] = pick(&WindowFigures::ws_p95_bytes, pname.c_str());
  auto [avg_name, avg] = pick(&WindowFigures::ws_avg_bytes, "ws_avg");
  auto [max_name, max] = pick(&WindowFigures::ws_max_bytes, "ws_max");

  std::vector<Term> req_terms{{p95_name + " × " + factor_text(p95_pm), scale_up(p95, p95_pm)},
                              {avg_name + " × " + factor_text(r.request_avg_pm), scale_up(avg, r.request_avg_pm)},
                              {quantity(r.request_floor_bytes) + " floor", r.request_floor_bytes}};
  const Term& rt = largest(req_terms);
  uint64_t req_rounded = round_up(rt.bytes, r.round_bytes);
  // The RSS floors, before the clamps (the user's bounds still win).
  auto rss_floor = [&](const std::optional<uint64_t>& b) { return b ? round_up(*b, r.round_bytes) : 0; };
  auto rss_note = [&](const char* name, const std::optional<uint64_t>& b) {
    return b ? fmt::format("RSS floor: {} {} cannot be reclaimed", name, mib_text(*b)) : std::string();
  };
  const std::string rss_pname = in.rss_name.empty() ? "rss_" + pname.substr(3) : in.rss_name;
  const std::string rss_maxname = in.rss_name.empty() ? "rss_max" : in.rss_name;
  uint64_t req_floored = std::max(req_rounded, rss_floor(in.rss_p95_bytes));
  out.request_rss_floor = req_floored != req_rounded;
  out.request_bytes = std::clamp(req_floored, r.request_min_bytes, r.request_max_bytes);
  out.request_term = out.request_rss_floor ? rss_pname + " (RSS floor)" : rt.name;

  std::vector<Term> lim_terms{{max_name + " × " + factor_text(max_pm), scale_up(max, max_pm)},
                              {"request × " + factor_text(r.limit_request_pm), scale_up(out.request_bytes, r.limit_request_pm)}};
  if (in.oom_used_bytes) {
    uint64_t u = *in.oom_used_bytes;
    bool add_wins = add_sat(u, r.oom_add_bytes) >= scale_up(u, r.oom_pm);
    std::string used = in.oom_kills > 1 ? fmt::format("used {} at the last of {} kills", mib_text(u), in.oom_kills)
                                        : fmt::format("used {}", mib_text(u));
    lim_terms.push_back({add_wins ? fmt::format("OOM floor used + {} ({})", quantity(r.oom_add_bytes), used)
                                  : fmt::format("OOM floor used × {} ({})", factor_text(r.oom_pm), used),
                         std::max(add_sat(u, r.oom_add_bytes), scale_up(u, r.oom_pm))});
  }
  const Term& lt = largest(lim_terms);
  uint64_t lim_rounded = round_up(lt.bytes, r.round_bytes);
  uint64_t lim_floored = std::max(lim_rounded, rss_floor(in.rss_max_bytes));
  out.limit_rss_floor = lim_floored != lim_rounded;
  uint64_t lim = std::clamp(lim_floored, r.limit_min_bytes, r.limit_max_bytes);
  const char* floor_note = nullptr;
  if (lim < out.request_bytes) {
    lim = out.request_bytes;
    floor_note = "a limit is never below the request";
  }
  out.limit_bytes = lim;
  out.limit_term = out.limit_rss_floor && !floor_note ? rss_maxname + " (RSS floor)" : lt.name;

  out.rationale = explain("request", rt, req_rounded, req_floored, rss_note(rss_pname.c_str(), in.rss_p95_bytes),
                          out.request_bytes, r.request_min_bytes, r.request_max_bytes, r.round_bytes) +
                  "; " +
                  explain("limit", lt, lim_rounded, lim_floored, rss_note(rss_maxname.c_str(), in.rss_max_bytes), out.limit_bytes,
                          r.limit_min_bytes,
                          r.limit_max_bytes, r.round_bytes, floor_note);
  if (out.confidence == Confidence::Low) out.rationale += "; low confidence: " + out.confidence_reason;
  return out;
}

}  // namespace ow::recommend
