// HintService::tick in steps: the tree of selected cgroups, eBPF memory per
// subtree, each target's breakdown and publication, the withdrawal of stale
// hints, and the failure warning.
#include <algorithm>
#include <string_view>

#include "gomemlimit/inputs.hpp"
#include "hintsvc/service.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace ow::hintsvc {

namespace {

// Preorder walk below nodes[self]: children after their parent, in name
// order, ids as cg::Hierarchy::walk has them.
void walk_below(const cg::Hierarchy& h, gomemlimit::HintTree& t, int self) {
  for (auto& c : cg::child_dirs(h.abs(t.nodes[self].rel))) {  // none when removed meanwhile
    std::string rel = cg::join_rel(t.nodes[self].rel, c.name);
    uint64_t limit = gomemlimit::level_limit(h, rel);
    walk_below(h, t, t.add_child(self, std::move(rel), c.id, limit));
  }
}

}  // namespace

// What the steps of one tick share.
struct HintService::Round {
  int64_t now_ns = 0;
  uint64_t machine = 0;  // MemTotal
  HintTickReport rep;
  std::set<uint64_t> live;  // ids whose hint stays; the others are withdrawn
  std::string first_failure;
  // Figures older than kFiguresMaxAgeNs still to re-read this tick.
  size_t aged_budget = 0;
  gomemlimit::CalcInput in;  // reused from target to target

  void note_failure(const std::string& rel, const std::string& why) {
    if (first_failure.empty()) first_failure = rel + ": " + why;
  }
};

bool HintService::run_tick(int64_t now_ns, bool force, const sampler::Snapshot* snap) {
  if (shut_) return false;
  if (!force && last_tick_ns_ && now_ns - *last_tick_ns_ < o_.period_ns) return false;
  last_tick_ns_ = now_ns;
  Round r;
  r.now_ns = now_ns;
  r.rep.at_ns = now_ns;
  int64_t t0 = mono_ns();
  size_t withdrawn_before = withdrawn_total_;
  no_hint_warnings_ = 0;

  auto machine = gomemlimit::read_mem_total(o_.meminfo_path);
  if (!machine) {
    spdlog::warn("GOMEMLIMIT hints not recomputed: {}", machine.error().message());
    r.rep.duration_ns = mono_ns() - t0;
    last_ = r.rep;
    return true;
  }
  r.machine = *machine;

  gomemlimit::HintTree tree = build_tree(snap);
  r.rep.from_snapshot = snap != nullptr;
  r.rep.walked = tree.nodes.size();
  int64_t t1 = mono_ns();
  r.rep.walk_ns = t1 - t0;

  measure_ebpf(tree, r.rep);
  int64_t t2 = mono_ns();
  r.rep.ebpf_ns = t2 - t1;

  r.aged_budget = gomemlimit::aged_reread_budget(tree.nodes.size(), o_.period_ns, kFiguresMaxAgeNs);
  for (size_t i = 0; i < tree.nodes.size(); ++i) publish_target(r, tree, i);
  withdraw_stale(r.live);
  r.rep.withdrawn = withdrawn_total_ - withdrawn_before;
  r.rep.publish_ns = mono_ns() - t2;
  r.rep.duration_ns = mono_ns() - t0;

  warn_failures(r);
  last_ = r.rep;
  return true;
}

// The selected subtrees, each level's limit read once, or taken from the
// snapshot where it has the cgroup.
gomemlimit::HintTree HintService::build_tree(const sampler::Snapshot* snap) {
  gomemlimit::HintTree tree;
  std::unordered_map<std::string_view, const sampler::Sample*> by_path;
  if (snap) {
    by_path.reserve(snap->samples.size());
    for (const auto& x : snap->samples) by_path.emplace(x.cgroup, &x);
  }
  auto limit_of = [&](const std::string& rel) {
    if (auto it = by_path.find(rel); it != by_path.end()) return gomemlimit::sample_limit(*it->second, h_.version());
    return gomemlimit::level_limit(h_, rel);
  };
  std::vector<std::string> roots = o_.roots.empty() ? std::vector<std::string>{"/"} : o_.roots;
  for (const auto& root : roots) {
    const sampler::Sample* root_sample = nullptr;
    if (auto it = by_path.find(root); it != by_path.end()) root_sample = it->second;
    auto id = root_sample ? Result<uint64_t>(root_sample->cgroup_id) : h_.id_of(root);
    if (!id) {
      if (missing_roots_.insert(root).second)
        spdlog::warn("GOMEMLIMIT hints: no cgroup {} (yet): nothing hinted there until it appears", root);
      continue;
    }
    missing_roots_.erase(root);
    std::vector<gomemlimit::LimitLevel> ancestors;
    if (root != "/") {
      for (std::string cur = gomemlimit::parent_path(root);; cur = gomemlimit::parent_path(cur)) {
        ancestors.push_back({cur, limit_of(cur)});
        if (cur == "/") break;
      }
    }
    int at = tree.add_root(root, *id, limit_of(root), std::move(ancestors), root_sample);
    if (snap && root_sample) gomemlimit::add_snapshot_descendants(tree, at, *snap, h_.version());
    else walk_below(h_, tree, at);
  }
  return tree;
}

// eBPF memory of every subtree: one map walk.
void HintService::measure_ebpf(const gomemlimit::HintTree& tree, HintTickReport& rep) {
  if (o_.measure_ebpf) {
    std::unordered_map<uint64_t, std::string> walked;
    walked.reserve(tree.nodes.size());
    for (const auto& n : tree.nodes) walked.emplace(n.id, n.rel);
    if (auto s = collect_ebpf(&walked); !s && !ebpf_warned_) {
      spdlog::warn("GOMEMLIMIT hints: eBPF memory not measured ({}); hints leave no room for it", s.error().message());
      ebpf_warned_ = true;
    }
  }
  if (!charges_.measured && !ebpf_warned_ && o_.measure_ebpf) {
    spdlog::warn("GOMEMLIMIT hints: eBPF memory not measured ({}); hints leave no room for it", charges_.source);
    ebpf_warned_ = true;
  }
  rep.ebpf_measured = charges_.measured;
  rep.ebpf_maps = charges_.maps;
}

// nodes[i], when it is a target: its breakdown, published.
void HintService::publish_target(Round& r, const gomemlimit::HintTree& tree, size_t i) {
  const gomemlimit::TreeNode& node = tree.nodes[i];
  if (!o_.include_unlimited && node.eff >= r.machine) return;
  ++r.rep.targets;
  auto breakdown = breakdown_of(r, tree, i);
  if (!breakdown) return;
  r.live.insert(node.id);
  std::string why;
  switch (publish_one(node.rel, node.id, *breakdown, true, r.now_ns, &why)) {
    case Outcome::Rewritten: ++r.rep.rewritten; [[fallthrough]];
    case Outcome::Published:
      ++r.rep.published;
      if (!why.empty()) {
        ++r.rep.incomplete;
        r.note_failure(node.rel, why);
      }
      break;
    case Outcome::NoHint: ++r.rep.no_hint; break;
    case Outcome::Failed:
      ++r.rep.failed;
      r.note_failure(node.rel, why);
      break;
  }
}

// nodes[i]'s breakdown: the last one when nothing it depends on changed,
// else computed from the figures that still hold or from memory.stat read
// again. nullopt: the cgroup is gone (its hint is withdrawn) or unreadable
// (its old hint stays, counted as failed).
std::optional<gomemlimit::Breakdown> HintService::breakdown_of(Round& r, const gomemlimit::HintTree& tree, size_t i) {
  const gomemlimit::TreeNode& node = tree.nodes[i];
  const std::string& limit_at = gomemlimit::limiting_level(tree, i);
  uint64_t ebpf = ebpf_for(node.rel);
  auto known = figures_.find(node.id);
  bool reuse = node.sample && known != figures_.end() &&
               gomemlimit::figures_hold(known->second, node.eff, limit_at, node.sample->usage_bytes,
                                        node.sample->inactive_file_bytes);
  if (reuse && r.now_ns - known->second.read_ns >= kFiguresMaxAgeNs && r.aged_budget > 0) {
    reuse = false;
    --r.aged_budget;
  }
  if (reuse && gomemlimit::breakdown_holds(known->second, ebpf, r.machine)) return known->second.breakdown;

  gomemlimit::CalcInput& in = r.in;
  gomemlimit::limit_levels(tree, i, in.levels);
  if (reuse) {
    in.version = h_.version();
    in.stat = known->second.stat;
    in.v1_kmem_bytes = known->second.v1_kmem_bytes;
  } else if (auto s = gomemlimit::read_cgroup_figures(h_, node.rel, in); !s) {
    if (s.error().err == ENOENT) return std::nullopt;  // removed since the walk: withdrawn with the stale ones
    r.live.insert(node.id);  // keep an old hint rather than drop it on a read error
    ++r.rep.failed;
    r.note_failure(node.rel, s.error().message());
    return std::nullopt;
  } else {
    ++r.rep.stat_reads;
  }
  in.machine_bytes = r.machine;
  in.ebpf_bytes = ebpf;
  gomemlimit::Breakdown b = gomemlimit::compute(in, o_.params);
  if (node.sample) {
    auto& f = figures_[node.id];
    if (!reuse) {
      f.stat = in.stat;
      f.v1_kmem_bytes = in.v1_kmem_bytes;
      f.usage = node.sample->usage_bytes;
      f.inactive = node.sample->inactive_file_bytes;
      f.read_ns = r.now_ns;
    }
    f.eff_limit = node.eff;
    f.limit_at = limit_at;
    f.ebpf = ebpf;
    f.machine = r.machine;
    f.breakdown = b;
  }
  return b;
}

// Hints of cgroups gone, no longer targets, or without a positive hint.
void HintService::withdraw_stale(const std::set<uint64_t>& live) {
  std::vector<uint64_t> stale;
  for (const auto& [id, p] : published_)
    if (!live.count(id)) stale.push_back(id);
  for (uint64_t id : stale) {
    withdraw(id);
    no_hint_.erase(id);
  }
  for (auto it = figures_.begin(); it != figures_.end();)
    it = live.count(it->first) ? std::next(it) : figures_.erase(it);
}

// One line when failures start or change in number, else once per log period.
void HintService::warn_failures(const Round& r) {
  size_t failed = r.rep.failed + r.rep.incomplete;
  if (!r.first_failure.empty() &&
      (failed != last_failed_ || r.now_ns - last_fail_warn_ns_ >= o_.log_period_ns || last_fail_warn_ns_ == 0)) {
    spdlog::warn("GOMEMLIMIT hints: {} of {} cgroups failed, {} published incompletely; first: {}", r.rep.failed,
                 r.rep.targets, r.rep.incomplete, r.first_failure);
    last_fail_warn_ns_ = r.now_ns;
  }
  last_failed_ = failed;
}

}  // namespace ow::hintsvc
