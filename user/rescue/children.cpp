// Managed children: found, armed and given back (rescue/children.hpp).
#include "rescue/children.hpp"

#include <algorithm>

#include "policy/arming.hpp"
#include "policy/pressure.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::rescue {


std::vector<std::pair<std::string, uint64_t>> children(const cg::Hierarchy& h, const std::string& rel) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& c : cg::child_dirs(h.abs(rel))) out.emplace_back(cg::join_rel(rel, c.name), c.id);
  return out;  // sorted by path: child_dirs gives them in name order
}

ManagedChildren::ManagedChildren(const cg::Hierarchy& h, actuate::Journal& journal, Loop& loop,
                                 std::vector<std::string> roots, Settings s, Hooks hooks)
    : h_(h), journal_(journal), loop_(loop), roots_(std::move(roots)), set_(s), hooks_(std::move(hooks)) {}

Status ManagedChildren::watch(const bpf::Loader& loader) {
  if (!set_.arm) return {};
  if (h_.version() == cg::Version::V2) {
    auto w = V2EventsWatch::open();
    if (!w) return w.error();
    v2w_.emplace(std::move(*w));
    if (auto s = loop_.add_fd(v2w_->fd(), [this] {
          auto changed = v2w_->drain();
          if (hooks_.v2_events) hooks_.v2_events(changed);
        });
        !s)
      return s;
  }
  if (roots_.empty()) return {};
  auto t = loop_.add_oneshot([this] { retry_births(); });
  if (!t) return t.error();
  retry_timer_ = *t;
  if (loader.births_attached()) {
    auto b = BirthWatch::open(loader, h_, roots_, [this](const Birth& x) { on_birth(x); });
    if (!b)
      spdlog::warn("new children found by the walk only (up to {} late): {}",
                   format_duration(std::chrono::nanoseconds(set_.interval_ns)), b.error().message());
    else
      births_ = std::move(*b);
  }
  if (births_)
    if (auto s = loop_.add_fd(births_->fd(), [this] {
          if (auto p = births_->poll(); !p) spdlog::error("births ring buffer: {}", p.error().message());
        });
        !s)
      return s;
  arm_roots();
  return {};
}

Child* ManagedChildren::find(const std::string& path) {
  auto it = kids_.find(path);
  return it == kids_.end() ? nullptr : &it->second;
}

bool ManagedChildren::drop_if_gone(const std::string& path) {
  auto it = kids_.find(path);
  if (it == kids_.end()) return false;
  auto id = h_.id_of(path);
  if (id && *id == it->second.id) return false;
  if (!id && id.error().err != ENOENT) return false;  // cannot tell: the walk decides
  drop_gone(it, id.ok());
  return true;
}

Child* ManagedChildren::owner_of(const std::string& cgroup) {
  Child* owner = nullptr;
  for (auto& [p, c] : kids_)
    if (cg::is_under(cgroup, p)) owner = &c;
  return owner;
}

bool ManagedChildren::observe(Child& c, const sampler::Sample& s) {
  if (c.released && !c.paused) {
    // The kernel had its turn after the deadline; take over again.
    auto ev = h_.events(c.path);
    if (ev && !ev->under_oom && h_.set_oom_kill_disable(c.path, true)) c.released = false;
  }
  const policy::ChildLook look{c.seen,         s.usage_bytes, s.limit_bytes,      s.failcnt,
                               c.last_failcnt, s.ev_high,     c.last_high_events, c.guard_bytes != 0};
  const bool signal = policy::limit_signal(look);
  c.seen = true;
  c.last_usage = s.usage_bytes;
  c.last_limit = s.limit_bytes;
  c.last_failcnt = s.failcnt;
  c.last_high_events = s.ev_high;
  if (c.guard_bytes || (set_.arm && h_.version() == cg::Version::V2)) update_guard(c);
  return signal;
}

bool ManagedChildren::release(Child& c) {
  if (auto s = h_.set_oom_kill_disable(c.path, false); !s) {
    spdlog::error("could not give {} its OOM killer back: {}", printable(c.path), s.error().message());
    return false;
  }
  c.paused = false;
  c.released = true;
  return true;
}

// v1: each managed parent reads oom_kill_disable 1 while the agent enforces,
// so that the kernel creates every new child with 1 (mem_cgroup_css_alloc
// copies the parent's flag): a child is paused, not killed, at its limit from
// its first byte, before the agent has even heard of it. Journalled first,
// with the descendants that read 1 already (someone else's, kept).
void ManagedChildren::arm_roots() {
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
            (void)loop_.add_fd(mr.v1->fd(), [this, p] { on_root_oom(p); });
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
void ManagedChildren::on_root_oom(const std::string& path) {
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
  if (hooks_.root_released) hooks_.root_released(path, (mono_ns() - t0) / 1000);
}

// v1: a parent released at its own limit is armed again once the kernel has
// made room (no longer under_oom).
void ManagedChildren::rearm_roots() {
  for (auto& [p, r] : mroots_) {
    if (!r.released) continue;
    auto ev = h_.events(p);
    if (!ev || ev->under_oom) continue;
    if (h_.set_oom_kill_disable(p, true)) r.released = false;
  }
}

void ManagedChildren::on_birth(const Birth& b) {
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
        loop_.arm_timer(retry_timer_, std::chrono::milliseconds(1));
      }
      return;
    }
    if (*id != b.id) return;  // gone and made again already: the walk sorts it out
    if (it != kids_.end()) drop_gone(it, true);
    Child c;
    c.path = rel;
    c.root = root->path;
    c.id = b.id;
    c.born_ns = b.mono_ns;
    Child& added = kids_.emplace(rel, std::move(c)).first->second;
    if (set_.arm) arm(added);
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

void ManagedChildren::retry_births() {
  auto pending = std::move(pending_births_);
  pending_births_.clear();
  for (const auto& b : pending) on_birth(b);
}

// rel and its descendants reading 1 that is not someone else's: back to 0.
void ManagedChildren::disarm_inherited(const std::string& rel) {
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
void ManagedChildren::sweep_descendants() {
  if (h_.version() != cg::Version::V1 || !set_.arm) return;
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

std::map<std::string, Child>::iterator ManagedChildren::drop_gone(std::map<std::string, Child>::iterator it,
                                                                  bool renamed) {
  spdlog::info("{} is gone{}", printable(it->first), renamed ? " (a new cgroup has its name)" : "");
  return drop(it);
}

std::map<std::string, Child>::iterator ManagedChildren::drop(std::map<std::string, Child>::iterator it) {
  if (it->second.v1) loop_.remove_fd(it->second.v1->fd());
  if (v2w_) v2w_->remove(it->first);
  journal_.forget(it->first);  // nothing to put back in a cgroup that is gone
  std::string path = it->first;
  auto next = kids_.erase(it);
  if (hooks_.dropped) hooks_.dropped(path);
  return next;
}

void ManagedChildren::refresh() {
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
    it = drop_gone(it, a != ids.end());
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
  if (set_.arm && !added.empty()) {
    if (h_.version() == cg::Version::V1 && added.size() > 1) {
      // One journal write for all of them before any is changed; arm() then
      // finds each entry recorded (a child arm() skips keeps a harmless one).
      std::vector<actuate::Journal::Entry> es;
      for (const Child* c : added)
        if (auto ev = h_.events(c->path); ev && !ev->oom_kill_disable)
          es.push_back({c->path, "memory.oom_control", "0"});
      if (auto s = journal_.remember(es); !s) spdlog::error("journal: {}", s.error().message());  // arm() refuses each
    }
    for (Child* c : added) arm(*c);
  }
  sweep_descendants();
}

void ManagedChildren::arm(Child& c) {
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
    (void)loop_.add_fd(c.v1->fd(), [this, p] {
      if (hooks_.paused) hooks_.paused(p);
    });
    armed_after_birth(c, "watched");
    spdlog::info("armed {}: paused at its limit, not killed, until oomwatch acts (deadline {})", c.path,
                 format_duration(std::chrono::nanoseconds(set_.v1_pause_deadline_ns)));
  } else {
    if (v2w_) (void)v2w_->add(h_, c.path);
    update_guard(c);
  }
}

// v2: memory.high a guard below memory.max, following max as it changes.
// Three reads (high, max, current), not read()'s five: this runs at every
// birth and every memory.max write, on the path a new child waits on.
void ManagedChildren::update_guard(Child& c) {
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
void ManagedChildren::armed_after_birth(Child& c, const char* what) {
  if (c.born_ns == 0) return;
  spdlog::debug("{} {} {} us after its mkdir", printable(c.path), what, (mono_ns() - c.born_ns) / 1000);
  c.born_ns = 0;
}

}  // namespace ow::rescue
