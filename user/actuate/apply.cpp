#include "actuate/apply.hpp"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/fault.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::actuate {
namespace {

uint64_t page_bytes() { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }

// What the kernel reads back after `bytes` was written: it stores pages.
uint64_t stored(uint64_t bytes) { return bytes == kUnlimited ? kUnlimited : bytes / page_bytes() * page_bytes(); }

bool is_donor(const LimitChange& c) { return c.new_limit_bytes < c.old_limit_bytes; }

}  // namespace

uint64_t v2_donor_margin_bytes() {
  uint64_t page = page_bytes();
  return (kV2DonorMarginBytes + page - 1) / page * page;
}

std::string encode_intent(const std::vector<IntentEntry>& plan) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : plan) {
    const auto& c = e.change;
    nlohmann::json o{{"cgroup", encode_bytes(c.cgroup)}, {"old", c.old_limit_bytes}, {"new", c.new_limit_bytes}};
    if (e.high_bytes) {
      if (*e.high_bytes == kUnlimited)
        o["high"] = "max";
      else
        o["high"] = *e.high_bytes;
    }
    j.push_back(std::move(o));
  }
  return json_line(j);
}

bool decode_intent(std::string_view text, std::vector<IntentEntry>& out) {
  out.clear();
  try {
    for (const auto& c : nlohmann::json::parse(text)) {
      IntentEntry e;
      if (!decode_bytes(c.at("cgroup").get<std::string>(), e.change.cgroup)) throw std::runtime_error("bad cgroup");
      e.change.old_limit_bytes = c.at("old").get<uint64_t>();
      e.change.new_limit_bytes = c.at("new").get<uint64_t>();
      if (auto h = c.find("high"); h != c.end()) {  // optional: intents older than v2 donors lack it
        if (h->is_string() && h->get<std::string>() == "max")
          e.high_bytes = kUnlimited;
        else if (h->is_number_unsigned())
          e.high_bytes = h->get<uint64_t>();
        else
          throw std::runtime_error("bad high");
      }
      out.push_back(std::move(e));
    }
  } catch (const std::exception&) {
    out.clear();
    return false;
  }
  return true;
}

Status Actuator::write_checked(const std::string& rel, uint64_t bytes) {
  if (auto s = h_.set_limit(rel, bytes); !s) return s;
  return check_read_back(h_.limit(rel), bytes, rel, h_.limit_file());
}

Status Actuator::write_high_checked(const std::string& rel, uint64_t bytes) {
  if (auto s = h_.set_high(rel, bytes); !s) return s;
  return check_read_back(h_.high(rel), bytes, rel, "memory.high");
}

Status Actuator::check_read_back(const Result<uint64_t>& back, uint64_t bytes, const std::string& rel,
                                 const std::string& file) const {
  if (!back) return back.error();
  // The kernel stores pages: a value that is not page-aligned reads back rounded down.
  if (*back != stored(bytes))
    return app_error("read back " + std::to_string(*back) + " after writing " + std::to_string(bytes) + " to",
                     h_.abs(rel) + "/" + file);
  return {};
}

Status Actuator::save_intent(const std::vector<IntentEntry>& plan) {
  if (intent_.empty()) return {};
  if (auto dir = parent_dir(intent_); !dir.empty()) (void)mkdir_p(dir);
  // No fsync: this sits between the kernel's signal and the first limit write
  // (an fsync on a busy disk took tens of ms here). The intent only has to
  // outlive the agent, which the page cache does; a power cut resets every
  // cgroup limit, so there is nothing to undo after it.
  return write_file_atomic(intent_, encode_intent(plan) + "\n", kFileMode, Durability::ProcessDeath);
}

void Actuator::clear_intent() {
  if (!intent_.empty()) ::unlink(intent_.c_str());
}

// The three steps of apply.hpp for one v2 donor. Every way out leaves
// memory.high back at high0 unless memory.max was written (max_written).
Actuator::DonorStep Actuator::lower_v2_donor(const LimitChange& c, std::optional<uint64_t> high0, bool first_limit) {
  DonorStep d;
  const std::string& rel = c.cgroup;
  if (!high0) {  // unreadable before the plan (gone?): read again, for the error
    auto h = h_.high(rel);
    if (!h) {
      d.why = h.error().message();
      return d;
    }
    high0 = *h;
  }
  d.high0 = *high0;
  auto fail = [&](const std::string& why) {
    d.outcome = DonorStep::failed;
    d.why = why;
    if (auto s = write_high_checked(rel, d.high0); !s)
      spdlog::error("{}: memory.high not put back to {}: {}", h_.abs(rel), format_size(d.high0), s.error().message());
    return d;
  };
  auto u0 = h_.usage(rel);
  if (!u0) {
    d.why = u0.error().message();
    return d;
  }
  // The kernel reclaims in this write, down to the new value if it can; it
  // never OOM-kills for memory.high (it throttles the cgroup's allocations).
  if (auto s = write_high_checked(rel, c.new_limit_bytes); !s) return fail(s.error().message());
  auto u1 = h_.usage(rel);
  if (!u1) return fail(u1.error().message());
  const uint64_t margin = v2_donor_margin_bytes();
  const uint64_t room = c.new_limit_bytes > margin ? c.new_limit_bytes - margin : 0;
  std::string skip;
  if (*u1 > room)
    skip = "usage " + format_size(*u1) + " (" + std::to_string(*u1) + ") after memory.high reclaim is above the new limit " +
           format_size(c.new_limit_bytes) + " less the " + format_size(margin) + " margin";
  else if (*u1 > *u0 + margin)
    skip = "usage rose from " + format_size(*u0) + " to " + format_size(*u1) +
           " during the memory.high reclaim: still growing";
  if (!skip.empty()) {
    if (auto s = write_high_checked(rel, d.high0); !s) {
      d.why = "memory.high not put back to " + format_size(d.high0) + " after skipping the cut: " + s.error().message();
      return d;
    }
    d.outcome = DonorStep::skipped;
    d.why = skip;
    return d;
  }
  if (auto s = write_checked(rel, c.new_limit_bytes); !s) return fail(s.error().message());
  d.max_written = true;
  if (first_limit) fault_point("limit_written");
  // A memory.high below the old limit was a guard: it ends at most at the new
  // limit (its owner re-derives it); "max" or a value at or above the old
  // limit goes back as it was.
  uint64_t final_high = d.high0 < c.old_limit_bytes ? std::min(d.high0, c.new_limit_bytes) : d.high0;
  if (stored(final_high) != stored(c.new_limit_bytes))
    if (auto s = write_high_checked(rel, final_high); !s) {
      d.why = s.error().message();
      return d;  // failed, max_written: the caller's rollback raises max and puts memory.high back
    }
  d.outcome = DonorStep::lowered;
  return d;
}

ApplyResult Actuator::apply(const std::vector<LimitChange>& plan) {
  ApplyResult r;
  const bool v2 = h_.version() == cg::Version::V2;
  std::vector<IntentEntry> intent;
  intent.reserve(plan.size());
  for (const auto& c : plan) {
    IntentEntry e{c, std::nullopt};
    if (v2 && is_donor(c))
      if (auto hv = h_.high(c.cgroup)) e.high_bytes = *hv;  // unreadable: the donor's turn fails with the error
    intent.push_back(std::move(e));
  }
  if (auto s = save_intent(intent); !s) {
    r.error = s.error().message();
    return r;
  }
  fault_point("intent_written");
  struct Done {
    LimitChange change;
    bool put_high = false;  // a v2 donor: memory.high back to high0 too
    uint64_t high0 = 0;
  };
  std::vector<Done> done;
  auto rollback = [&](const std::string& error) {
    r.error = error;
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      auto u = h_.set_limit(it->change.cgroup, it->change.old_limit_bytes);
      if (!u) spdlog::error("rollback of {} failed: {}", h_.abs(it->change.cgroup), u.error().message());
      if (it->put_high)
        if (auto s = h_.set_high(it->change.cgroup, it->high0); !s)
          spdlog::error("rollback of {}/memory.high failed: {}", h_.abs(it->change.cgroup), s.error().message());
    }
    r.applied.clear();
    r.rolled_back = true;
    clear_intent();
  };
  uint64_t withheld = 0;  // skipped donors' cuts not yet taken off a receiver
  uint64_t donated = 0;   // cuts actually made
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto& c = plan[i];
    LimitChange w = c;
    if (c.receiver && c.new_limit_bytes > c.old_limit_bytes && withheld > 0) {
      // A raise to "max" is not a sum of donations: it counts as what the donors were to give.
      uint64_t raise =
          c.new_limit_bytes == kUnlimited ? donated + withheld : c.new_limit_bytes - c.old_limit_bytes;
      uint64_t cut = std::min(raise, withheld);
      withheld -= cut;
      w.new_limit_bytes = c.old_limit_bytes + (raise - cut);
      spdlog::warn("{}: raise cut from {} to {}: donors skipped", h_.abs(c.cgroup), format_size(raise),
                   format_size(raise - cut));
      if (w.new_limit_bytes == c.old_limit_bytes) continue;  // nothing to give: not written
    }
    if (v2 && is_donor(c)) {
      auto d = lower_v2_donor(c, intent[i].high_bytes, done.empty());
      if (d.outcome == DonorStep::skipped) {
        spdlog::warn("{}: not lowered to {} (skipped): {}", h_.abs(c.cgroup), format_size(c.new_limit_bytes), d.why);
        r.skipped.push_back(c);
        r.skip_reasons.push_back(d.why);
        withheld += c.old_limit_bytes - c.new_limit_bytes;
        r.withheld_bytes += c.old_limit_bytes - c.new_limit_bytes;
        continue;
      }
      if (d.max_written) done.push_back({c, true, d.high0});
      if (d.outcome == DonorStep::failed) {
        rollback(d.why);
        return r;
      }
      donated += c.old_limit_bytes - c.new_limit_bytes;
      r.applied.push_back(w);
      continue;
    }
    auto s = write_checked(w.cgroup, w.new_limit_bytes);
    if (s && done.empty()) fault_point("limit_written");
    if (!s) {
      rollback(s.error().message());
      return r;
    }
    done.push_back({w});
    r.applied.push_back(w);
  }
  if (withheld > 0)
    for (const auto& c : r.applied)
      if (!c.receiver && c.new_limit_bytes > c.old_limit_bytes) {
        spdlog::warn("{}: raised as planned although donors withheld {}: no change of the plan is its receiver",
                     h_.abs(c.cgroup), format_size(withheld));
        break;
      }
  fault_point("plan_written");
  clear_intent();
  r.ok = true;
  return r;
}

Result<std::vector<Recovered>> Actuator::recover_intent() {
  std::vector<Recovered> out;
  if (intent_.empty()) return out;
  auto t = read_text(intent_);
  if (!t) return t.error().err == ENOENT ? Result<std::vector<Recovered>>(out) : Result<std::vector<Recovered>>(t.error());
  std::vector<IntentEntry> plan;
  if (!decode_intent(*t, plan)) {
    clear_intent();  // unreadable (torn by a power cut, which also reset the limits): nothing to undo
    return out;
  }
  bool complete = true;
  for (const auto& e : plan) {
    auto l = h_.limit(e.change.cgroup);
    complete = complete && l && *l == e.change.new_limit_bytes;
  }
  if (!complete)
    for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
      const auto& c = it->change;
      auto l = h_.limit(c.cgroup);
      if (!l) continue;  // gone: nothing to put back
      Recovered r{c.cgroup, c.old_limit_bytes, c.new_limit_bytes, *l, *l, "restored"};
      if (*l == c.old_limit_bytes) continue;
      uint64_t target = c.old_limit_bytes;
      if (target < *l) {  // undoing a raise: never below what the cgroup uses now
        uint64_t usage = h_.usage(c.cgroup).value_or(0);
        uint64_t floor = usage + std::max<uint64_t>(8ull << 20, usage / 10);
        if (floor >= *l) {
          r.result = "kept";
          out.push_back(r);
          continue;
        }
        if (target < floor) {
          target = floor;
          r.result = "kept";
        }
      }
      if (auto s = write_checked(c.cgroup, target); !s) {
        r.result = "failed: " + s.error().message();
      } else {
        r.after_bytes = h_.limit(c.cgroup).value_or(target);
      }
      out.push_back(r);
    }
  // v2 donors: memory.high left at the plan's transient value (the new limit)
  // goes back to what it was before the plan. Another value was written after
  // the plan (the journal's restore of a guard, the guard itself, an
  // operator) and is not ours to change.
  if (h_.version() == cg::Version::V2)
    for (const auto& e : plan) {
      const auto& c = e.change;
      if (!e.high_bytes || !is_donor(c)) continue;
      auto hc = h_.high(c.cgroup);
      if (!hc || *hc == *e.high_bytes || *hc != stored(c.new_limit_bytes)) continue;
      uint64_t h0 = *e.high_bytes;
      uint64_t target = complete && h0 < c.old_limit_bytes ? std::min(h0, c.new_limit_bytes) : h0;
      if (stored(target) == *hc) continue;
      auto it = std::find_if(out.begin(), out.end(), [&](const Recovered& x) { return x.cgroup == c.cgroup; });
      if (it == out.end()) {
        uint64_t l = h_.limit(c.cgroup).value_or(0);
        out.push_back({c.cgroup, c.old_limit_bytes, c.new_limit_bytes, l, l, "high_restored"});
        it = out.end() - 1;
      }
      it->high_before_bytes = *hc;
      if (auto s = write_high_checked(c.cgroup, target); !s) {
        it->result = "failed: " + s.error().message();
        it->high_after_bytes = h_.high(c.cgroup).value_or(*hc);
      } else {
        it->high_restored = true;
        it->high_after_bytes = stored(target);
      }
    }
  clear_intent();
  return out;
}

}  // namespace ow::actuate
