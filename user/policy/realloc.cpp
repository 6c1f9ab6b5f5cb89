#include "policy/realloc.hpp"

#include <algorithm>

#include "policy/donors.hpp"
#include "policy/pages.hpp"
#include "util/names.hpp"

namespace ow::policy {

namespace {

constexpr Named<TriggerKind> kTriggerKinds[] = {
    {TriggerKind::oom_kill, "oom_kill"}, {TriggerKind::oom_pending, "oom_pending"}, {TriggerKind::pressure, "pressure"}};
constexpr Named<Reservation> kReservations[] = {{Reservation::physical, "physical"}, {Reservation::strict, "strict"}};
constexpr Named<Source> kSources[] = {{Source::global, "global"}, {Source::siblings, "siblings"}, {Source::none, "none"}};
constexpr Named<Outcome> kOutcomes[] = {{Outcome::planned, "planned"},
                                        {Outcome::insufficient, "insufficient"},
                                        {Outcome::rate_limited, "rate_limited"},
                                        {Outcome::at_ceiling, "at_ceiling"},
                                        {Outcome::no_limit, "no_limit"}};

}  // namespace

const char* to_string(TriggerKind k) { return name_of(kTriggerKinds, k); }
const char* to_string(Reservation r) { return name_of(kReservations, r, "physical"); }
std::vector<std::string> reservation_names() { return name_vector(kReservations); }
const char* to_string(Source s) { return name_of(kSources, s); }
const char* to_string(Outcome o) { return name_of(kOutcomes, o); }

namespace {

std::string sz(uint64_t b) { return format_size(b); }

void note(std::string& reason, const std::string& s) { reason += (reason.empty() ? "" : "; ") + s; }

// Free room under the parent for raising the receiver without lowering anyone.
uint64_t parent_headroom(const Incident& in, const Params& p, std::string& reason) {
  const auto& parent = in.parent;
  uint64_t limit = parent.limit_bytes;
  if (limit == kUnlimited) {
    // Physical: the kernel's own reclaim guards the machine; nothing to reserve against.
    if (p.reservation == Reservation::physical) return kUnlimited;
    if (p.machine_memory_bytes == 0) {
      note(reason, "strict: parent " + parent.path + " has no limit and machine memory is unknown");
      return 0;
    }
    limit = p.machine_memory_bytes;
  }
  uint64_t reserve = std::max(p.reserve_bytes, fraction_of(limit, p.reserve_fraction));
  uint64_t room = sub_sat(sub_sat(limit, parent.usage_bytes), reserve);
  std::string how = "limit " + sz(limit) + " - usage " + sz(parent.usage_bytes) + " - reserve " + sz(reserve);
  if (p.reservation == Reservation::strict) {
    uint64_t children = in.receiver.limit_bytes;
    for (const auto& s : in.siblings) children = add_sat(children, s.limit_bytes);
    room = std::min(room, sub_sat(limit, children));
    how += ", capped by limit - children's limits " + sz(children);
  }
  room = page_down(room, p.page_bytes);
  note(reason, "parent headroom " + sz(room) + " (" + to_string(p.reservation) + ": " + how + ")");
  return room;
}

// rate (bytes/s) * horizon (ns), saturating.
uint64_t mul_rate(uint64_t bytes_per_s, int64_t horizon_ns) {
  if (horizon_ns <= 0) return 0;
  unsigned __int128 v = static_cast<unsigned __int128>(bytes_per_s) * static_cast<uint64_t>(horizon_ns) / 1'000'000'000u;
  return v > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(v);
}

Plan finish(Plan pl, Outcome o, const std::string& why) {
  pl.result = o;
  note(pl.reason, why);
  return pl;
}

}  // namespace

Plan plan(const Incident& in, const Params& p, const History& h) {
  const auto& r = in.receiver;
  const int64_t now = in.trigger.now_ns;
  Plan pl;
  pl.oom_cgroup = r.path;
  pl.receiver_limit_bytes = r.limit_bytes;
  if (r.limit_bytes == kUnlimited) return finish(pl, Outcome::no_limit, r.path + " has no limit to raise");

  // Granted again within the cooldown, its limit still what the last grant
  // left: the receiver is still growing into it.
  if (recent_role(h, r.path, now, p.cooldown_ns) == Role::received) {
    const auto& last = h.last.at(r.path);
    if (last.limit_after == 0 || last.limit_after == r.limit_bytes) pl.streak = last.streak + 1;
  }
  const uint32_t doublings = std::min<uint32_t>(pl.streak - 1, 20);
  uint64_t step = p.min_step_bytes;
  for (uint32_t i = 0; i < doublings; ++i) step = add_sat(step, step);
  uint64_t growth = mul_rate(in.trigger.growth_bytes_per_s, p.horizon_ns);
  uint64_t raw = std::max({in.trigger.victim_rss_bytes, growth, step});
  uint64_t need = page_up(raw, p.page_bytes);
  note(pl.reason, "need " + sz(need) + " = max(victim rss " + sz(in.trigger.victim_rss_bytes) + ", growth " +
                      sz(in.trigger.growth_bytes_per_s) + "/s x " + format_duration(std::chrono::nanoseconds(p.horizon_ns)) +
                      " = " + sz(growth) + ", min step " + sz(p.min_step_bytes) +
                      (pl.streak > 1 ? " x 2^" + std::to_string(doublings) + " (grant " + std::to_string(pl.streak) +
                                           " in a row)"
                                     : std::string()) +
                      ")");
  if (r.config.ceiling_bytes != kUnlimited) {
    uint64_t room = page_down(sub_sat(r.config.ceiling_bytes, r.limit_bytes), p.page_bytes);
    if (room < need) {
      need = room;
      note(pl.reason, "capped to " + sz(need) + " by ceiling " + sz(r.config.ceiling_bytes));
    }
  }
  pl.need_bytes = need;
  if (need == 0) return finish(pl, Outcome::at_ceiling, r.path + " is at its ceiling");

  uint64_t want = need;
  if (p.max_moved_per_minute_bytes != kUnlimited) {
    uint64_t moved = moved_last_minute(h, r.path, now);
    uint64_t budget = page_down(sub_sat(p.max_moved_per_minute_bytes, moved), p.page_bytes);
    if (budget < want && urgent(in.trigger.kind)) {
      note(pl.reason, r.path + " got " + sz(moved) + " in the last minute, over its cap " +
                          sz(p.max_moved_per_minute_bytes) + ": served anyway, a stopped task is not left to die");
    } else if (budget < want) {
      want = budget;
      note(pl.reason, r.path + " got " + sz(moved) + " in the last minute, cap " +
                          sz(p.max_moved_per_minute_bytes) + " leaves " + sz(budget));
      if (want == 0) return finish(pl, Outcome::rate_limited, "per-cgroup per-minute cap reached");
    }
  }

  pl.headroom_bytes = parent_headroom(in, p, pl.reason);
  pl.global_bytes = std::min(pl.headroom_bytes, want);
  uint64_t rest = want - pl.global_bytes;
  DonorPick pick;
  if (rest > 0) pick = pick_donors(r, in.siblings, rest, p, h, now);

  pl.added_bytes = pl.global_bytes + pick.total_bytes;
  for (const auto& d : pick.donations)
    pl.adjustments.push_back({d.path, d.old_limit_bytes, d.new_limit_bytes, d.given_bytes, false});
  if (pl.added_bytes > 0)
    pl.adjustments.push_back({r.path, r.limit_bytes, r.limit_bytes + pl.added_bytes, 0, true});
  pl.source = pick.total_bytes > 0 ? Source::siblings : pl.global_bytes > 0 ? Source::global : Source::none;
  if (pick.total_bytes > 0) {
    std::string gave = "siblings gave " + sz(pick.total_bytes) + ":";
    for (const auto& d : pick.donations) gave += " " + d.path + " " + sz(d.given_bytes);
    note(pl.reason, gave);
  }

  if (pl.added_bytes == need) return finish(pl, Outcome::planned, "adds " + sz(pl.added_bytes));
  if (want < need && pl.added_bytes == want)
    return finish(pl, Outcome::rate_limited, "adds " + sz(pl.added_bytes) + " of " + sz(need));
  std::string why = "adds " + sz(pl.added_bytes) + " of " + sz(need) + ", short by " +
                    sz(need - pl.added_bytes);
  const size_t kMaxListed = 8;  // keep one audit line readable on wide hierarchies
  for (size_t i = 0; i < pick.skipped.size() && i < kMaxListed; ++i) why += "; skipped " + pick.skipped[i];
  if (pick.skipped.size() > kMaxListed)
    why += "; " + std::to_string(pick.skipped.size() - kMaxListed) + " more skipped";
  return finish(pl, Outcome::insufficient, why);
}

History record(History h, const Plan& plan, int64_t now_ns) {
  std::vector<std::string> donors;
  for (const auto& a : plan.adjustments)
    if (!a.receiver) donors.push_back(a.path);
  return record_grant(std::move(h), plan.oom_cgroup, donors, plan.added_bytes, now_ns, plan.streak,
                      plan.receiver_limit_bytes + plan.added_bytes);
}

}  // namespace ow::policy
