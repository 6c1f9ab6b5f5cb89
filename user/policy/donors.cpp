#include "policy/donors.hpp"

#include <algorithm>

#include "policy/pages.hpp"

namespace ow::policy {

uint64_t donor_floor_bytes(const CgroupState& c, const Params& p) {
  uint64_t margin = std::max(p.donor_margin_bytes, fraction_of(c.usage_bytes, p.donor_margin_fraction));
  uint64_t f = add_sat(c.usage_bytes, margin);
  if (c.window.has_stats) f = std::max(f, c.window.max_bytes);
  f = std::max(f, c.config.floor_bytes);
  return page_up(f, p.page_bytes);
}

std::optional<std::string> why_not_donor(const CgroupState& s, const CgroupState& receiver,
                                         const Params& p, const History& h, int64_t now_ns) {
  if (!s.config.may_donate) return "may not donate (config)";
  if (!s.window.has_stats) return "no statistics yet";
  if (s.window.span_ns < p.donor_min_history_ns)
    return "history covers " + format_duration(std::chrono::nanoseconds(s.window.span_ns)) + ", less than the " +
           format_duration(std::chrono::nanoseconds(p.donor_min_history_ns)) + " required";
  if (s.limit_bytes == kUnlimited) return "no limit to lower";
  // Donors are siblings "below their median"; an idle cgroup's flat usage equals
  // its median, and it is the best donor there is, so only growth above the
  // median (a cgroup busier than usual) rules a sibling out.
  if (s.usage_bytes > s.window.median_bytes)
    return "usage " + format_size(s.usage_bytes) + " above its median " +
           format_size(s.window.median_bytes);
  if (s.config.priority > receiver.config.priority) return "higher priority than the receiver";
  // A recent receiver gives nothing back (no ping-pong). A recent donor may
  // give again: its floor is computed from its usage now.
  if (recent_role(h, s.path, now_ns, p.cooldown_ns) == Role::received) return "received memory within the cooldown";
  if (donor_floor_bytes(s, p) >= s.limit_bytes) return "no room above its floor";
  return std::nullopt;
}

namespace {

struct Candidate {
  const CgroupState* s;
  uint64_t spare_pages;
  uint64_t give_pages = 0;
  unsigned __int128 remainder = 0;
};

// Largest-remainder apportionment of want_pages (< total spare) by spare pages.
void apportion(std::vector<Candidate>& cs, uint64_t want_pages, uint64_t total_spare_pages) {
  uint64_t given = 0;
  for (auto& c : cs) {
    unsigned __int128 num = static_cast<unsigned __int128>(want_pages) * c.spare_pages;
    c.give_pages = static_cast<uint64_t>(num / total_spare_pages);
    c.remainder = num % total_spare_pages;
    given += c.give_pages;
  }
  // Leftover < number of candidates, and each share < its spare (want < total),
  // so one extra page each always fits.
  std::vector<Candidate*> order;
  for (auto& c : cs) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(),
                   [](const Candidate* a, const Candidate* b) { return a->remainder > b->remainder; });
  for (size_t i = 0; given < want_pages && i < order.size(); ++i, ++given) order[i]->give_pages++;
}

}  // namespace

DonorPick pick_donors(const CgroupState& receiver, const std::vector<CgroupState>& siblings,
                      uint64_t want_bytes, const Params& p, const History& h, int64_t now_ns) {
  std::vector<const CgroupState*> sorted;
  for (const auto& s : siblings)
    if (s.path != receiver.path) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(),
            [](const CgroupState* a, const CgroupState* b) { return a->path < b->path; });

  DonorPick out;
  std::vector<Candidate> cs;
  uint64_t total_spare_pages = 0;
  for (const auto* s : sorted) {
    if (auto why = why_not_donor(*s, receiver, p, h, now_ns)) {
      out.skipped.push_back(s->path + ": " + *why);
      continue;
    }
    uint64_t spare = page_down(s->limit_bytes - donor_floor_bytes(*s, p), p.page_bytes);
    if (spare == 0) {
      out.skipped.push_back(s->path + ": less than a page above its floor");
      continue;
    }
    cs.push_back({s, spare / p.page_bytes});
    total_spare_pages += spare / p.page_bytes;
  }

  if (p.max_donors > 0 && cs.size() > p.max_donors) {
    // The most spare room first (stable: path order breaks ties), then back
    // to path order for the donations.
    std::stable_sort(cs.begin(), cs.end(),
                     [](const Candidate& a, const Candidate& b) { return a.spare_pages > b.spare_pages; });
    out.skipped.push_back(std::to_string(cs.size() - p.max_donors) + " more eligible sibling(s) not asked: at most " +
                          std::to_string(p.max_donors) + " donors per plan, those with the most spare room");
    cs.resize(p.max_donors);
    std::sort(cs.begin(), cs.end(), [](const Candidate& a, const Candidate& b) { return a.s->path < b.s->path; });
    total_spare_pages = 0;
    for (const auto& c : cs) total_spare_pages += c.spare_pages;
  }
  uint64_t want_pages = want_bytes / p.page_bytes;
  if (total_spare_pages <= want_pages) {
    for (auto& c : cs) c.give_pages = c.spare_pages;
  } else {
    apportion(cs, want_pages, total_spare_pages);
  }
  for (const auto& c : cs) {
    if (c.give_pages == 0) continue;
    uint64_t give = c.give_pages * p.page_bytes;
    out.donations.push_back({c.s->path, c.s->limit_bytes, c.s->limit_bytes - give, give});
    out.total_bytes += give;
  }
  return out;
}

}  // namespace ow::policy
