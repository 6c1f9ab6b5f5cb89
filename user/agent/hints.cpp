#include "agent/hints.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "bpf/loader.hpp"
#include "bpfmem/kernel.hpp"
#include "gomemlimit/inputs.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"

namespace ow::agent {


namespace {

std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : rel.substr(0, slash);
}

// One cgroup of the per-tick walk.
struct Node {
  std::string rel;
  uint64_t id = 0;
  int parent = -1;            // index in the walk; -1: a root (its ancestors are in `above`)
  int above = -1;             // roots only: index into the ancestor chains
  uint64_t limit = kUnlimited;  // this level's limit (gomemlimit::level_limit)
  uint64_t eff = kUnlimited;    // min over this level and every ancestor
  const sampler::Sample* sample = nullptr;  // ticks from a snapshot: its figures
};

// A level's limit as the snapshot gives it (gomemlimit::level_limit's rule:
// v2 memory.high counts as a limit).
uint64_t sample_limit(const sampler::Sample& s, cg::Version v) {
  return v == cg::Version::V2 ? std::min(s.limit_bytes, s.high_bytes) : s.limit_bytes;
}

bool moved(uint64_t was, uint64_t now) {
  uint64_t d = was > now ? was - now : now - was;
  return d > std::max<uint64_t>(1 << 20, std::max(was, now) / 100);
}

// Preorder walk below `rel` (whose node is at index `self`): children after
// their parent, ids from readdir's d_ino (the inode number, as in
// cg::Hierarchy::walk); fstatat only where the file system gives no d_type.
void walk_below(const cg::Hierarchy& h, std::vector<Node>& nodes, int self) {
  std::string dir = h.abs(nodes[self].rel);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;  // removed meanwhile
  std::vector<std::pair<std::string, uint64_t>> kids;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (e->d_type == DT_DIR) {
      kids.emplace_back(e->d_name, static_cast<uint64_t>(e->d_ino));
      continue;
    }
    if (e->d_type != DT_UNKNOWN) continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    kids.emplace_back(e->d_name, static_cast<uint64_t>(st.st_ino));
  }
  ::closedir(d);
  std::sort(kids.begin(), kids.end());
  for (auto& [name, id] : kids) {
    Node n;
    n.rel = cg::join_rel(nodes[self].rel, name);
    n.id = id;
    n.parent = self;
    n.limit = gomemlimit::level_limit(h, n.rel);
    n.eff = std::min(n.limit, nodes[self].eff);
    nodes.push_back(std::move(n));
    walk_below(h, nodes, static_cast<int>(nodes.size()) - 1);
  }
}

}  // namespace

struct HintService::Charges {
  bool measured = false;
  std::string source;  // "iter/bpf_map", or why not measured
  size_t maps = 0;
  std::unordered_map<std::string, uint64_t> subtree;  // path -> bytes of maps charged to it or below
};

HintService::HintService(const cg::Hierarchy& h, HintOptions o)
    : h_(h), o_(std::move(o)), ids_(h), charges_(std::make_unique<Charges>()) {}

HintService::~HintService() = default;

Result<std::unique_ptr<HintService>> HintService::open(const cg::Hierarchy& h, HintOptions o) {
  if (auto v = gomemlimit::validate(o.params); !v) return v.error();
  if (o.period_ns <= 0) return app_error("hint period must be positive");
  if (o.log_period_ns <= 0) return app_error("hint log period must be positive");
  if (o.republish_period_ns <= 0) return app_error("hint republish period must be positive");
  std::vector<std::string> roots;
  for (const auto& r : o.roots) {
    if (r.empty() || r[0] != '/')
      return app_error("hint root '" + r + "': want a path relative to the hierarchy root, like /kubepods");
    std::string n = r;
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    roots.push_back(n);
  }
  // Nested roots select nothing more than the outer one: keep the outer.
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  std::vector<std::string> outer;
  for (const auto& r : roots)
    if (outer.empty() || !hints::under_roots(r, outer)) outer.push_back(r);
  o.roots = outer;
  o.publish.unpin_when_empty = false;

  std::unique_ptr<HintService> s(new HintService(h, std::move(o)));
  auto p = gomemlimit::Publisher::open(s->o_.publish, true);
  if (!p) {
    spdlog::warn("GOMEMLIMIT hints: no pinned BPF map ({}); publishing the xattr and {} only", p.error().message(),
                 s->o_.publish.hint_dir);
    p = gomemlimit::Publisher::open(s->o_.publish, false);
    if (!p) return p.error();
  }
  s->pub_ = std::move(*p);

  if (s->o_.measure_ebpf) {
    if (s->o_.loader) {
      s->loader_ = s->o_.loader;
    } else {
      bpf::LoaderOptions lo;
      lo.oom_events = false;
      lo.bpfmem = true;
      auto l = bpf::Loader::open(lo);
      if (l) {
        s->own_loader_ = std::move(*l);
        s->loader_ = s->own_loader_.get();
      } else {
        s->charges_->source = "unavailable: " + l.error().message();
      }
    }
  } else {
    s->charges_->source = "unavailable: not measured (measure_ebpf off)";
  }
  return s;
}

Status HintService::collect_ebpf(const std::unordered_map<uint64_t, std::string>* walked) {
  Charges c;
  if (!loader_ || !loader_->bpfmem_loaded()) {
    c.source = loader_ ? "unavailable: no bpf_map iterator on this kernel (5.8+)" : charges_->source;
    *charges_ = std::move(c);
    return {};
  }
  auto recs = bpfmem::read_map_records(*loader_);
  if (!recs) {
    c.source = "unavailable: " + recs.error().message();
    *charges_ = std::move(c);
    return recs.error();
  }
  uint64_t root_id = 0;
  std::vector<std::pair<std::string, uint64_t>> charged;
  charged.reserve(recs->size());
  for (const auto& r : *recs) {
    // As bpfmem::collect: libbpf's probe maps die with their probe program.
    if (r.usercnt == 0 && std::strncmp(r.name, "libbpf_", 7) == 0) continue;
    auto memlock = bpfmem::map_memlock(r.id);
    if (!memlock) continue;  // freed since the walk
    ++c.maps;
    if (r.flags & OW_BPF_MAP_UNCHARGED) {
      charged.emplace_back("/", *memlock);
      continue;
    }
    if (root_id == 0) root_id = h_.id_of("/").value_or(0);
    const std::string* known = nullptr;
    if (walked) {
      if (auto it = walked->find(r.memcg_id); it != walked->end()) known = &it->second;
    }
    if (r.memcg_id == root_id) charged.emplace_back("/", *memlock);
    else if (known) charged.emplace_back(*known, *memlock);
    else charged.emplace_back(ids_.path(r.memcg_id), *memlock);  // outside the roots: cached, rewalked on a miss
  }
  c.measured = true;
  c.source = "iter/bpf_map";
  c.subtree = hints::subtree_sums(charged);
  *charges_ = std::move(c);
  return {};
}

uint64_t HintService::ebpf_for(const std::string& rel) const {
  auto it = charges_->subtree.find(rel);
  return it == charges_->subtree.end() ? 0 : it->second;
}

bool HintService::selected(const std::string& rel) const { return hints::under_roots(rel, o_.roots); }

bool HintService::covers(const std::string& cgroup) const {
  auto rel = h_.resolve(cgroup);
  return rel && selected(*rel);
}

Result<std::string> HintService::resolve_target(const std::string& cgroup) const {
  auto rel = h_.resolve(cgroup);
  if (!rel) return rel.error();
  if (!selected(*rel)) return app_error("no GOMEMLIMIT hints for " + *rel + ": not under the hinted subtrees");
  return *rel;
}

bool HintService::withdraw(uint64_t id) {
  auto it = published_.find(id);
  if (it == published_.end()) return false;
  auto r = pub_->unpublish({h_.abs(it->second.cgroup), id});
  if (!r.all_ok()) spdlog::warn("withdraw the GOMEMLIMIT hint of {}: {}", it->second.cgroup, r.failures());
  published_.erase(it);
  ++withdrawn_total_;
  return true;
}

HintService::Outcome HintService::publish_one(const std::string& rel, uint64_t id, const gomemlimit::Breakdown& b,
                                              bool may_confirm, int64_t now_ns, std::string* why) {
  if (!b.ok) {
    if (why) *why = b.error;
    withdraw(id);
    auto& prev = no_hint_[id];
    if (prev != b.error) {  // once per cgroup and cause; a flood of them (first tick) mostly at debug
      if (no_hint_warnings_++ < 10) spdlog::warn("no GOMEMLIMIT hint for {}: {}", rel, b.error);
      else spdlog::debug("no GOMEMLIMIT hint for {}: {}", rel, b.error);
    }
    prev = b.error;
    return Outcome::NoHint;
  }
  no_hint_.erase(id);
  auto it = published_.find(id);
  bool confirm = may_confirm && it != published_.end() && it->second.complete &&
                 it->second.hint_bytes == b.gomemlimit_bytes && it->second.cgroup == rel &&
                 now_ns - it->second.written_ns < o_.republish_period_ns;
  gomemlimit::Target t{h_.abs(rel), id};
  auto r = confirm ? pub_->confirm(t, b) : pub_->publish(t, b);
  bool has_map = pub_->map_fd() >= 0;
  bool took = r.xattr.ok() || r.file.ok() || (has_map && r.map.ok());
  if (!has_map) r.map = {};  // no map at all was said once at open: not a failure of this cgroup
  if (!took) {
    if (why) *why = r.failures();
    return Outcome::Failed;
  }
  if (!r.all_ok() && why) *why = r.failures();
  auto& e = published_[id];
  e.cgroup = rel;
  e.cgroup_id = id;
  e.hint_bytes = b.gomemlimit_bytes;
  e.breakdown = b;
  e.complete = r.all_ok();
  if (!confirm) e.written_ns = now_ns;
  return confirm ? Outcome::Published : Outcome::Rewritten;
}

bool HintService::tick(int64_t now_ns, bool force) { return run_tick(now_ns, force, nullptr); }

bool HintService::tick(int64_t now_ns, const sampler::Snapshot& snap, bool force) {
  return run_tick(now_ns, force, &snap);
}

bool HintService::run_tick(int64_t now_ns, bool force, const sampler::Snapshot* snap) {
  if (shut_) return false;
  if (!force && last_tick_ns_ && now_ns - *last_tick_ns_ < o_.period_ns) return false;
  last_tick_ns_ = now_ns;
  HintTickReport rep;
  rep.at_ns = now_ns;
  int64_t t0 = mono_ns();
  size_t withdrawn_before = withdrawn_total_;
  no_hint_warnings_ = 0;

  auto machine = gomemlimit::read_mem_total(o_.meminfo_path);
  if (!machine) {
    spdlog::warn("GOMEMLIMIT hints not recomputed: {}", machine.error().message());
    rep.duration_ns = mono_ns() - t0;
    last_ = rep;
    return true;
  }

  // 1. The selected subtrees, each level's limit read once (or taken from the snapshot).
  std::vector<Node> nodes;
  std::vector<std::vector<gomemlimit::LimitLevel>> above;  // per root: its ancestors, nearest first
  std::vector<std::string> roots = o_.roots.empty() ? std::vector<std::string>{"/"} : o_.roots;
  std::unordered_map<std::string_view, const sampler::Sample*> by_path;
  if (snap) {
    by_path.reserve(snap->samples.size());
    for (const auto& x : snap->samples) by_path.emplace(x.cgroup, &x);
  }
  auto limit_of = [&](const std::string& rel) {
    if (auto it = by_path.find(rel); it != by_path.end()) return sample_limit(*it->second, h_.version());
    return gomemlimit::level_limit(h_, rel);
  };
  rep.from_snapshot = snap != nullptr;
  for (const auto& root : roots) {
    const sampler::Sample* rs = nullptr;
    if (auto it = by_path.find(root); it != by_path.end()) rs = it->second;
    auto id = rs ? Result<uint64_t>(rs->cgroup_id) : h_.id_of(root);
    if (!id) {
      if (missing_roots_.insert(root).second)
        spdlog::warn("GOMEMLIMIT hints: no cgroup {} (yet): nothing hinted there until it appears", root);
      continue;
    }
    missing_roots_.erase(root);
    Node n;
    n.rel = root;
    n.id = *id;
    n.limit = limit_of(root);
    n.eff = n.limit;
    n.sample = rs;
    std::vector<gomemlimit::LimitLevel> chain;
    if (root != "/") {
      for (std::string cur = parent_of(root);; cur = parent_of(cur)) {
        chain.push_back({cur, limit_of(cur)});
        n.eff = std::min(n.eff, chain.back().limit_bytes);
        if (cur == "/") break;
      }
    }
    n.above = static_cast<int>(above.size());
    above.push_back(std::move(chain));
    nodes.push_back(std::move(n));
    if (!snap || !rs) {
      walk_below(h_, nodes, static_cast<int>(nodes.size()) - 1);
      continue;
    }
    // Descendants from the snapshot, parents before children (sorted paths).
    std::vector<const sampler::Sample*> below;
    std::string_view prefix = root == "/" ? std::string_view("/") : std::string_view(root);
    for (const auto& x : snap->samples) {
      std::string_view p = x.cgroup;
      if (p == prefix) continue;
      if (root == "/" ? p.size() > 1 && p[0] == '/' : p.starts_with(prefix) && p.size() > prefix.size() && p[prefix.size()] == '/')
        below.push_back(&x);
    }
    std::sort(below.begin(), below.end(), [](const auto* a, const auto* b) { return a->cgroup < b->cgroup; });
    // Keys view the snapshot's own strings (nodes' move as the vector grows).
    std::unordered_map<std::string_view, int> index{{rs->cgroup, static_cast<int>(nodes.size()) - 1}};
    for (const auto* x : below) {
      auto pit = index.find(parent_of(x->cgroup));
      if (pit == index.end()) continue;  // its parent is not in the snapshot (created meanwhile): next tick
      Node c;
      c.rel = x->cgroup;
      c.id = x->cgroup_id;
      c.parent = pit->second;
      c.limit = sample_limit(*x, h_.version());
      c.eff = std::min(c.limit, nodes[pit->second].eff);
      c.sample = x;
      nodes.push_back(std::move(c));
      index.emplace(x->cgroup, static_cast<int>(nodes.size()) - 1);
    }
  }
  rep.walked = nodes.size();
  int64_t t1 = mono_ns();
  rep.walk_ns = t1 - t0;

  // 2. eBPF memory of every subtree: one map walk.
  if (o_.measure_ebpf) {
    std::unordered_map<uint64_t, std::string> walked;
    walked.reserve(nodes.size());
    for (const auto& n : nodes) walked.emplace(n.id, n.rel);
    if (auto s = collect_ebpf(&walked); !s && !ebpf_warned_) {
      spdlog::warn("GOMEMLIMIT hints: eBPF memory not measured ({}); hints leave no room for it", s.error().message());
      ebpf_warned_ = true;
    }
  }
  if (!charges_->measured && !ebpf_warned_ && o_.measure_ebpf) {
    spdlog::warn("GOMEMLIMIT hints: eBPF memory not measured ({}); hints leave no room for it", charges_->source);
    ebpf_warned_ = true;
  }
  rep.ebpf_measured = charges_->measured;
  rep.ebpf_maps = charges_->maps;
  int64_t t2 = mono_ns();
  rep.ebpf_ns = t2 - t1;

  // 3. Each target: memory.stat, compute, publish.
  std::set<uint64_t> live;
  std::string first_failure;
  gomemlimit::CalcInput in;
  // Figures older than kFiguresMaxAgeNs are re-read a few a tick, so that all
  // of them are within that age and no tick reads them all at once.
  size_t aged_budget =
      1 + nodes.size() * static_cast<size_t>(std::max<int64_t>(o_.period_ns, 1)) / kFiguresMaxAgeNs;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (!o_.include_unlimited && n.eff >= *machine) continue;
    ++rep.targets;
    // The level whose limit is the effective one (nearest first), found
    // without copying the chain: with the figures unchanged and the same
    // limit from the same level, the last breakdown is this tick's.
    int top = static_cast<int>(i);
    const std::string* limiting = nullptr;
    uint64_t least = kUnlimited;
    for (int j = top; j >= 0; j = nodes[j].parent) {
      if (nodes[j].limit < least) least = nodes[j].limit, limiting = &nodes[j].rel;
      top = j;
    }
    for (const auto& l : above[nodes[top].above])
      if (l.limit_bytes < least) least = l.limit_bytes, limiting = &l.cgroup;
    const std::string& limit_at = limiting ? *limiting : n.rel;
    uint64_t ebpf = ebpf_for(n.rel);
    auto fit = figures_.find(n.id);
    bool reuse = n.sample && fit != figures_.end() && fit->second.eff_limit == n.eff &&
                 fit->second.limit_at == limit_at && !moved(fit->second.usage, n.sample->usage_bytes) &&
                 !moved(fit->second.inactive, n.sample->inactive_file_bytes);
    if (reuse && now_ns - fit->second.read_ns >= kFiguresMaxAgeNs && aged_budget > 0) {
      reuse = false;
      --aged_budget;
    }
    gomemlimit::Breakdown b;
    if (reuse && fit->second.ebpf == ebpf && fit->second.machine == *machine) {
      b = fit->second.breakdown;
    } else {
      in.levels.clear();
      for (int j = static_cast<int>(i); j >= 0; j = nodes[j].parent) in.levels.push_back({nodes[j].rel, nodes[j].limit});
      for (const auto& l : above[nodes[top].above]) in.levels.push_back(l);
      if (reuse) {
        in.version = h_.version();
        in.stat = fit->second.stat;
        in.v1_kmem_bytes = fit->second.v1_kmem_bytes;
      } else if (auto s = gomemlimit::read_cgroup_figures(h_, n.rel, in); !s) {
        if (s.error().err == ENOENT) continue;  // removed since the walk: withdrawn below
        live.insert(n.id);  // keep an old hint rather than drop it on a read error
        ++rep.failed;
        if (first_failure.empty()) first_failure = n.rel + ": " + s.error().message();
        continue;
      } else {
        ++rep.stat_reads;
      }
      in.machine_bytes = *machine;
      in.ebpf_bytes = ebpf;
      b = gomemlimit::compute(in, o_.params);
      if (n.sample) {
        auto& f = figures_[n.id];
        if (!reuse) {
          f.stat = in.stat;
          f.v1_kmem_bytes = in.v1_kmem_bytes;
          f.usage = n.sample->usage_bytes;
          f.inactive = n.sample->inactive_file_bytes;
          f.read_ns = now_ns;
        }
        f.eff_limit = n.eff;
        f.limit_at = limit_at;
        f.ebpf = ebpf;
        f.machine = *machine;
        f.breakdown = b;
      }
    }
    live.insert(n.id);
    std::string why;
    switch (publish_one(n.rel, n.id, b, true, now_ns, &why)) {
      case Outcome::Rewritten: ++rep.rewritten; [[fallthrough]];
      case Outcome::Published:
        ++rep.published;
        if (!why.empty()) {
          ++rep.incomplete;
          if (first_failure.empty()) first_failure = n.rel + ": " + why;
        }
        break;
      case Outcome::NoHint: ++rep.no_hint; break;
      case Outcome::Failed:
        ++rep.failed;
        if (first_failure.empty()) first_failure = n.rel + ": " + why;
        break;
    }
  }
  // 4. Hints of cgroups gone, or no longer targets, or without a positive hint.
  std::vector<uint64_t> stale;
  for (const auto& [id, p] : published_)
    if (!live.count(id)) stale.push_back(id);
  for (uint64_t id : stale) {
    withdraw(id);
    no_hint_.erase(id);
  }
  for (auto it = figures_.begin(); it != figures_.end();)  // cgroups gone or no longer targets
    it = live.count(it->first) ? std::next(it) : figures_.erase(it);
  rep.withdrawn = withdrawn_total_ - withdrawn_before;
  rep.publish_ns = mono_ns() - t2;
  rep.duration_ns = mono_ns() - t0;

  // Failures: one line when they start or change in number, else once per log period.
  size_t failed = rep.failed + rep.incomplete;
  if (!first_failure.empty() &&
      (failed != last_failed_ || now_ns - last_fail_warn_ns_ >= o_.log_period_ns || last_fail_warn_ns_ == 0)) {
    spdlog::warn("GOMEMLIMIT hints: {} of {} cgroups failed, {} published incompletely; first: {}", rep.failed,
                 rep.targets, rep.incomplete, first_failure);
    last_fail_warn_ns_ = now_ns;
  }
  last_failed_ = failed;
  last_ = rep;
  return true;
}

Result<uint64_t> HintService::publish_now(const std::string& rel, gomemlimit::CalcInput in) {
  auto id = h_.id_of(rel);
  if (!id) return id.error();
  if (!charges_->measured && o_.measure_ebpf && loader_) (void)collect_ebpf();
  in.ebpf_bytes = ebpf_for(rel);
  auto b = gomemlimit::compute(in, o_.params);
  if (!o_.include_unlimited && b.limit_source == "machine") {
    withdraw(*id);
    return app_error("no GOMEMLIMIT hint for " + rel + ": no limit below machine memory on it or its ancestors");
  }
  std::string why;
  switch (publish_one(rel, *id, b, false, last_tick_ns_.value_or(0), &why)) {
    case Outcome::Published:
    case Outcome::Rewritten:
      if (!why.empty()) spdlog::warn("GOMEMLIMIT hint of {} published, but not everywhere: {}", rel, why);
      return b.gomemlimit_bytes;
    case Outcome::NoHint:
      return app_error(rel + ": " + why);
    case Outcome::Failed:
      break;
  }
  return app_error("publish the GOMEMLIMIT hint of " + rel + ": " + why);
}

Result<uint64_t> HintService::refresh(const std::string& cgroup) {
  if (shut_) return app_error("GOMEMLIMIT hint service is shut down");
  auto rel = resolve_target(cgroup);
  if (!rel) return rel.error();
  auto in = gomemlimit::read_inputs(h_, *rel, o_.meminfo_path);
  if (!in) return in.error();
  return publish_now(*rel, std::move(*in));
}

Result<uint64_t> HintService::lower_before(const std::string& cgroup, uint64_t new_limit_bytes) {
  if (shut_) return app_error("GOMEMLIMIT hint service is shut down");
  auto rel = resolve_target(cgroup);
  if (!rel) return rel.error();
  auto in = gomemlimit::read_inputs(h_, *rel, o_.meminfo_path);
  if (!in) return in.error();
  auto& own = in->levels.front();
  own.limit_bytes = std::min(own.limit_bytes, new_limit_bytes);
  if (!charges_->measured && o_.measure_ebpf && loader_) (void)collect_ebpf();
  in->ebpf_bytes = ebpf_for(*rel);
  auto b = gomemlimit::compute(*in, o_.params);
  if (!b.ok)  // keep the current hint: refresh() after the limit write withdraws it
    return app_error("no GOMEMLIMIT hint for " + *rel + " at a limit of " + format_size(new_limit_bytes) + ": " +
                     b.error);
  return publish_now(*rel, std::move(*in));  // the same inputs: the same, positive hint
}

bool HintService::maybe_log(int64_t now_ns) {
  if (shut_) return false;
  if (last_log_ns_ && now_ns - *last_log_ns_ < o_.log_period_ns) return false;
  last_log_ns_ = now_ns;
  auto line = [&](const std::string& rel, const gomemlimit::Breakdown& b, std::string current) {
    hints::UsageLine l;
    l.cgroup = rel;
    l.usage_bytes = h_.usage(rel).value_or(0);
    l.limit_bytes = b.effective_limit_bytes;
    l.ebpf_bytes = b.ebpf_bytes;
    l.current = std::move(current);
    if (b.ok) l.recommended = b.gomemlimit_bytes;
    return hints::format_usage_line(l);
  };

  // oomwatch's own cgroup, whether or not it is hinted.
  const std::string& self = h_.self();
  const char* env = std::getenv("GOMEMLIMIT");
  if (auto in = gomemlimit::read_inputs(h_, self, o_.meminfo_path)) {
    in->ebpf_bytes = ebpf_for(self);
    spdlog::info("{}", line(self, gomemlimit::compute(*in, o_.params), hints::describe_env_gomemlimit(env)));
  } else {
    spdlog::warn("GOMEMLIMIT stats of oomwatch's own cgroup {}: {}", self, in.error().message());
  }

  size_t n = 0;
  for (const auto& [id, p] : published_) {
    if (p.cgroup == self) continue;
    std::string s = line(p.cgroup, p.breakdown, "n/a");
    if (n++ < o_.log_lines_max) spdlog::info("{}", s);
    else spdlog::debug("{}", s);
  }
  if (n > o_.log_lines_max)
    spdlog::info("memory usage stats: {} more hinted cgroups (at debug level)", n - o_.log_lines_max);
  if (!no_hint_.empty())
    spdlog::info("memory usage stats: {} cgroups have no positive GOMEMLIMIT hint (limit used up by non-heap memory)",
                 no_hint_.size());
  return true;
}

Status HintService::shutdown() {
  if (shut_) return {};
  shut_ = true;
  auto s = pub_->shutdown();
  published_.clear();
  no_hint_.clear();
  return s;
}

std::optional<uint64_t> HintService::published_value(const std::string& cgroup) const {
  for (const auto& [id, p] : published_)
    if (p.cgroup == cgroup) return p.hint_bytes;
  return std::nullopt;
}

}  // namespace ow::agent
