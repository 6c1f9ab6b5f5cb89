// Managed children: found (the kernel's word of a birth, and the walk each
// snapshot), armed (v1 oom_kill_disable, inherited from the managed parent
// at birth; v2 a memory.high guard following memory.max), and the parent's
// own pause at its limit handed back to the kernel's OOM killer.
#include "agent/daemon_impl.hpp"

#include <algorithm>

namespace ow::agent::detail {

std::vector<std::pair<std::string, uint64_t>> children(const cg::Hierarchy& h, const std::string& rel) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& c : cg::child_dirs(h.abs(rel))) out.emplace_back(cg::join_rel(rel, c.name), c.id);
  return out;  // sorted by path: child_dirs gives them in name order
}

// v1: each managed parent reads oom_kill_disable 1 while the agent enforces,
// so that the kernel creates every new child with 1 (mem_cgroup_css_alloc
// copies the parent's flag): a child is paused, not killed, at its limit from
// its first byte, before the agent has even heard of it. Journalled first,
// with the descendants that read 1 already (someone else's, kept).
void Daemon::arm_roots() {
  for (const auto& r : roots_) {
    ManagedRoot mr;
    mr.path = r;
    mr.id = h_.id_of(r).value_or(0);
    auto ev = h_.events(r);
    if (h_.version() == cg::Version::V1 && ev) {
      if (policy::v1_arm_step(true, ev->oom_kill_disable, journal_.has(r, "memory.oom_control")) ==
          policy::V1Arm::leave) {
        spdlog::warn("{} has oom_kill_disable 1 already (not set by oomwatch): left as it is", printable(r));
      } else {
        std::vector<std::string> keep;
        for (const auto& [id, d] : h_.walk(r))
          if (d != r)
            if (auto e = h_.events(d); e && e->oom_kill_disable) keep.push_back(d);
        mr.keep.insert(keep.begin(), keep.end());
        if (auto s = journal_.remember_subtree(r, "0", std::move(keep)); !s) {
          spdlog::error("not arming {} for its new children: journal: {}", printable(r), s.error().message());
        } else if (auto s2 = h_.set_oom_kill_disable(r, true); !s2) {
          spdlog::warn("not arming {} for its new children: {}", printable(r), s2.error().message());
        } else {
          mr.armed = true;
          if (auto w = V1OomWatch::open(h_, r); w) {
            mr.v1.emplace(std::move(*w));
            std::string p = r;
            (void)loop_->add_fd(mr.v1->fd(), [this, p] { on_root_oom(p); });
          } else {
            // Without the notification its own pause would last: not armed.
            spdlog::warn("no OOM notification for {}: {}", printable(r), w.error().message());
            (void)h_.set_oom_kill_disable(r, false);
            mr.armed = false;
          }
          if (mr.armed) spdlog::info("armed {}: its new children are born paused-not-killed at their limits", r);
        }
      }
    }
    mroots_.emplace(r, std::move(mr));
  }
}

// A managed parent at its own limit: no sibling can give memory that is not
// already inside it, and its limit is never raised, so the kernel's OOM
// killer decides at once (within v1_pause_deadline, the children's bound).
void Daemon::on_root_oom(const std::string& path) {
  auto it = mroots_.find(path);
  if (it == mroots_.end() || !it->second.v1) return;
  ManagedRoot& r = it->second;
  r.v1->drain();
  auto ev = h_.events(path);
  if (!ev || !ev->under_oom || !r.armed || r.released) return;
  int64_t t0 = mono_ns();
  if (auto s = h_.set_oom_kill_disable(path, false); !s) {
    spdlog::error("could not give {} its OOM killer back: {}", printable(path), s.error().message());
    return;
  }
  r.released = true;
  spdlog::warn("{} is at its own limit: a managed parent is never raised; the kernel's OOM killer decides",
               printable(path));
  auto j = unplanned_record(path, "oom_pending", "released",
                            "a managed parent at its own limit: its limit is never raised, the kernel's OOM killer "
                            "decides");
  j["released_us"] = (mono_ns() - t0) / 1000;
  append_audit(j);
  if (metrics_) metrics_->action(policy::TriggerKind::oom_pending, "none", "released", -1, false);
}

// v1: a parent released at its own limit is armed again once the kernel has
// made room (no longer under_oom).
void Daemon::rearm_roots() {
  for (auto& [p, r] : mroots_) {
    if (!r.released) continue;
    auto ev = h_.events(p);
    if (!ev || ev->under_oom) continue;
    if (h_.set_oom_kill_disable(p, true)) r.released = false;
  }
}

void Daemon::on_births() {
  if (auto s = births_->poll(); !s) spdlog::error("births ring buffer: {}", s.error().message());
}

void Daemon::on_birth(const Birth& b) {
  if (b.depth == 1) {
    const ManagedRoot* root = nullptr;
    for (const auto& [p, r] : mroots_)
      if (r.id == b.root_id) root = &r;
    if (!root) return;
    std::string rel = cg::join_rel(root->path, b.name);
    auto it = kids_.find(rel);
    if (it != kids_.end() && it->second.id == b.id) return;  // the walk was first
    auto id = h_.id_of(rel);
    if (!id) {
      // The tracepoint fires just before the kernel shows the directory: look
      // again in a millisecond (for up to 20 ms), then leave it to the walk.
      if (id.error().err == ENOENT && b.mono_ns > mono_ns() - 20'000'000) {
        pending_births_.push_back(b);
        loop_->arm_timer(retry_timer_, std::chrono::milliseconds(1));
      }
      return;
    }
    if (*id != b.id) return;  // gone and made again already: the walk sorts it out
    if (it != kids_.end()) {
      spdlog::info("{} is gone (a new cgroup has its name)", printable(rel));
      drop_child(it);
    }
    Child c;
    c.path = rel;
    c.root = root->path;
    c.id = b.id;
    c.born_ns = b.mono_ns;
    Child& added = kids_.emplace(rel, std::move(c)).first->second;
    if (rescue_active()) arm(added);
    return;
  }
  if (h_.version() != cg::Version::V1) return;  // v2 guards are on children only
  // v1, deeper: a child of a child inherited the armed child's 1, but the
  // agent watches children only. It gets the kernel's OOM killer back, as it
  // had before oomwatch: 0.
  std::string parent;
  for (const auto& [p, c] : kids_)
    if (c.id == b.parent_id) parent = p;
  if (parent.empty())
    if (auto it = deep_.find(b.parent_id); it != deep_.end()) parent = it->second;
  if (parent.empty()) return;
  std::string rel = cg::join_rel(parent, b.name);
  if (deep_.size() >= 4096) deep_.clear();
  deep_[b.id] = rel;
  disarm_inherited(rel);
}

void Daemon::retry_births() {
  auto pending = std::move(pending_births_);
  pending_births_.clear();
  for (const auto& b : pending) on_birth(b);
}

// rel and its descendants reading 1 that is not someone else's: back to 0.
void Daemon::disarm_inherited(const std::string& rel) {
  const ManagedRoot* root = nullptr;
  for (const auto& [p, r] : mroots_)
    if (cg::is_under(rel, p)) root = &r;
  for (const auto& [id, d] : h_.walk(rel)) {
    if (root && root->keep.count(d)) continue;
    auto ev = h_.events(d);
    if (!ev || !ev->oom_kill_disable) continue;
    if (auto s = h_.set_oom_kill_disable(d, false); !s)
      spdlog::warn("could not give {} its OOM killer back: {}", printable(d), s.error().message());
    else
      spdlog::debug("{}: below a managed child, OOM killer given back (inherited oom_kill_disable)", printable(d));
  }
}

// Without the births hook, or after the ring lost some: the descendants of
// each child are looked at once each (v1).
void Daemon::sweep_descendants() {
  if (h_.version() != cg::Version::V1 || !rescue_active()) return;
  uint64_t drops = births_ ? births_->drops() : 0;
  if (births_ && drops == birth_drops_seen_) return;
  if (drops != birth_drops_seen_) spdlog::warn("births ring buffer full: {} new cgroups found by the walk instead", drops);
  birth_drops_seen_ = drops;
  for (const auto& [p, c] : kids_)
    for (const auto& [id, d] : h_.walk(p)) {
      if (d == p || !swept_.insert(id).second) continue;
      disarm_inherited(d);
    }
  if (swept_.size() > 65536) swept_.clear();
}

std::map<std::string, Child>::iterator Daemon::drop_child(std::map<std::string, Child>::iterator it) {
  if (it->second.v1) loop_->remove_fd(it->second.v1->fd());
  if (v2w_) v2w_->remove(it->first);
  window_.forget(it->first);
  journal_.forget(it->first);  // nothing to put back in a cgroup that is gone
  hist_.last.erase(it->first);  // its cooldown and streak end with it
  return kids_.erase(it);
}

void Daemon::tell_donor_history() {
  if (!donor_hist_) return;
  std::vector<std::string> live;
  live.reserve(kids_.size());
  for (const auto& [p, c] : kids_) live.push_back(p);
  if (live == donor_live_) return;
  donor_live_ = std::move(live);
  donor_hist_->set_live(donor_live_);
}

void Daemon::refresh_children() {
  std::vector<std::pair<std::string, uint64_t>> alive;  // (path, cgroup id), sorted by path per root
  std::vector<std::string> alive_root;                  // the root of each entry of alive
  for (const auto& r : roots_)
    for (auto& c : children(h_, r)) {
      alive.push_back(std::move(c));
      alive_root.push_back(r);
    }
  std::unordered_map<std::string_view, uint64_t> ids;  // views into alive, which no longer changes
  ids.reserve(alive.size());
  for (const auto& [p, id] : alive) ids.emplace(p, id);
  for (auto it = kids_.begin(); it != kids_.end();) {
    auto a = ids.find(it->first);
    if (a != ids.end() && a->second == it->second.id) {
      ++it;
      continue;
    }
    spdlog::info("{} is gone{}", printable(it->first), a != ids.end() ? " (a new cgroup has its name)" : "");
    it = drop_child(it);
  }
  std::vector<Child*> added;  // std::map: pointers stay valid
  for (size_t i = 0; i < alive.size(); ++i) {
    const auto& [p, id] = alive[i];
    if (kids_.count(p)) continue;
    Child c;
    c.path = p;
    c.root = alive_root[i];
    c.id = id;
    added.push_back(&kids_.emplace(p, std::move(c)).first->second);
  }
  tell_donor_history();
  if (!rescue_active() || added.empty()) return;
  if (h_.version() == cg::Version::V1 && added.size() > 1) {
    // One journal write for all of them before any is changed; arm() then
    // finds each entry recorded (a child arm() skips keeps a harmless one).
    std::vector<actuate::Journal::Entry> es;
    for (const Child* c : added)
      if (auto ev = h_.events(c->path); ev && !ev->oom_kill_disable) es.push_back({c->path, "memory.oom_control", "0"});
    if (auto s = journal_.remember(es); !s) spdlog::error("journal: {}", s.error().message());  // arm() refuses each
  }
  for (Child* c : added) arm(*c);
}

void Daemon::arm(Child& c) {
  if (h_.version() == cg::Version::V1) {
    auto ev = h_.events(c.path);
    if (!ev) return;
    if (policy::v1_arm_step(false, ev->oom_kill_disable, false) == policy::V1Arm::arm) {
      if (auto s = journal_.remember(c.path, "memory.oom_control", "0"); !s) {
        spdlog::error("not arming {}: journal: {}", c.path, s.error().message());
        return;
      }
      if (auto s = h_.set_oom_kill_disable(c.path, true); !s) {
        spdlog::warn("not arming {}: {}", c.path, s.error().message());
        return;
      }
    }
    auto w = V1OomWatch::open(h_, c.path);
    if (!w) {
      spdlog::warn("no OOM notification for {}: {}", c.path, w.error().message());
      (void)h_.set_oom_kill_disable(c.path, false);
      return;
    }
    c.v1.emplace(std::move(*w));
    std::string p = c.path;
    (void)loop_->add_fd(c.v1->fd(), [this, p] { on_v1_oom(p); });
    armed_after_birth(c, "watched");
    spdlog::info("armed {}: paused at its limit, not killed, until oomwatch acts (deadline {})", c.path,
                 format_duration(std::chrono::nanoseconds(cfg_.v1_pause_deadline_ns)));
  } else {
    if (v2w_) (void)v2w_->add(h_, c.path);
    update_guard(c);
  }
}

// v2: memory.high a guard below memory.max, following max as it changes.
// Three reads (high, max, current), not read()'s five: this runs at every
// birth and every memory.max write, on the path a new child waits on.
void Daemon::update_guard(Child& c) {
  auto high = h_.high(c.path);
  if (!high || !policy::guard_is_ours(c.guard_bytes, *high)) return;
  auto limit = h_.limit(c.path);
  if (!limit || (*limit == kUnlimited && *high == kUnlimited)) return;  // no limit yet: nothing to guard
  auto usage = h_.usage(c.path);
  if (!usage) return;
  auto write = policy::guard_write(*high, *limit, *usage);
  if (!write) return;
  const uint64_t v = *write;
  if (c.guard_bytes == 0) {
    if (auto s = journal_.remember(c.path, "memory.high", "max"); !s) return;
  }
  if (auto s = h_.set_high(c.path, v); !s) {
    spdlog::warn("memory.high of {}: {}", c.path, s.error().message());
    return;
  }
  c.guard_bytes = v == kUnlimited ? 0 : v;
  if (c.guard_bytes) armed_after_birth(c, "guarded");
}

// How long a child born under the agent's eyes ran before it was armed (the
// kernel's mkdir timestamp to now), once, at debug level: bench_birth reads it.
void Daemon::armed_after_birth(Child& c, const char* what) {
  if (c.born_ns == 0) return;
  spdlog::debug("{} {} {} us after its mkdir", printable(c.path), what, (mono_ns() - c.born_ns) / 1000);
  c.born_ns = 0;
}

}  // namespace ow::agent::detail
