#include "gomemlimit/tree.hpp"

#include <algorithm>
#include <string_view>

#include "cgroup/hierarchy.hpp"

namespace ow::gomemlimit {

std::string parent_path(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : rel.substr(0, slash);
}

bool under_roots(const std::string& rel, const std::vector<std::string>& roots) {
  if (roots.empty()) return true;
  for (const auto& r : roots)
    if (cg::is_under(rel, r)) return true;
  return false;
}

Result<std::vector<std::string>> outer_roots(const std::vector<std::string>& roots) {
  std::vector<std::string> trimmed;
  for (const auto& r : roots) {
    if (r.empty() || r[0] != '/')
      return app_error("hint root '" + r + "': want a path relative to the hierarchy root, like /kubepods");
    std::string n = r;
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    trimmed.push_back(n);
  }
  // Nested roots select nothing more than the outer one: keep the outer.
  std::sort(trimmed.begin(), trimmed.end());
  trimmed.erase(std::unique(trimmed.begin(), trimmed.end()), trimmed.end());
  std::vector<std::string> outer;
  for (const auto& r : trimmed)
    if (outer.empty() || !under_roots(r, outer)) outer.push_back(r);
  return outer;
}

std::unordered_map<std::string, uint64_t> subtree_sums(const std::vector<std::pair<std::string, uint64_t>>& charges) {
  std::unordered_map<std::string, uint64_t> out;
  for (const auto& [path, bytes] : charges) {
    if (path.empty() || path[0] != '/') continue;  // cgroup gone: charged to nobody we hint
    for (std::string cur = path;; cur = parent_path(cur)) {
      out[cur] += bytes;
      if (cur == "/") break;
    }
  }
  return out;
}

uint64_t sample_limit(const sampler::Sample& s, cg::Version v) {
  return v == cg::Version::V2 ? std::min(s.limit_bytes, s.high_bytes) : s.limit_bytes;
}

int HintTree::add_root(std::string rel, uint64_t id, uint64_t limit, std::vector<LimitLevel> ancestors,
                       const sampler::Sample* sample) {
  TreeNode n;
  n.rel = std::move(rel);
  n.id = id;
  n.limit = limit;
  n.eff = limit;
  for (const auto& l : ancestors) n.eff = std::min(n.eff, l.limit_bytes);
  n.sample = sample;
  n.above = static_cast<int>(above.size());
  above.push_back(std::move(ancestors));
  nodes.push_back(std::move(n));
  return static_cast<int>(nodes.size()) - 1;
}

int HintTree::add_child(int parent, std::string rel, uint64_t id, uint64_t limit, const sampler::Sample* sample) {
  TreeNode n;
  n.rel = std::move(rel);
  n.id = id;
  n.parent = parent;
  n.limit = limit;
  n.eff = std::min(limit, nodes[parent].eff);
  n.sample = sample;
  nodes.push_back(std::move(n));
  return static_cast<int>(nodes.size()) - 1;
}

void add_snapshot_descendants(HintTree& t, int root, const sampler::Snapshot& snap, cg::Version v) {
  const std::string root_rel = t.nodes[root].rel;  // a copy: the nodes move as the vector grows
  std::string_view prefix = root_rel;
  std::vector<const sampler::Sample*> below;
  for (const auto& x : snap.samples) {
    std::string_view p = x.cgroup;
    if (p == prefix) continue;
    if (root_rel == "/" ? p.size() > 1 && p[0] == '/'
                        : p.starts_with(prefix) && p.size() > prefix.size() && p[prefix.size()] == '/')
      below.push_back(&x);
  }
  std::sort(below.begin(), below.end(), [](const auto* a, const auto* b) { return a->cgroup < b->cgroup; });
  // Keys view the snapshot's strings and root_rel, which outlive the map.
  std::unordered_map<std::string_view, int> index{{prefix, root}};
  for (const auto* x : below) {
    auto pit = index.find(parent_path(x->cgroup));
    if (pit == index.end()) continue;
    int at = t.add_child(pit->second, x->cgroup, x->cgroup_id, sample_limit(*x, v), x);
    index.emplace(x->cgroup, at);
  }
}

namespace {
// The root above nodes[i].
int root_of(const HintTree& t, size_t i) {
  int top = static_cast<int>(i);
  while (t.nodes[top].parent >= 0) top = t.nodes[top].parent;
  return top;
}
}  // namespace

const std::string& limiting_level(const HintTree& t, size_t i) {
  const std::string* limiting = nullptr;
  uint64_t least = kUnlimited;
  for (int j = static_cast<int>(i); j >= 0; j = t.nodes[j].parent)
    if (t.nodes[j].limit < least) least = t.nodes[j].limit, limiting = &t.nodes[j].rel;
  for (const auto& l : t.above[t.nodes[root_of(t, i)].above])
    if (l.limit_bytes < least) least = l.limit_bytes, limiting = &l.cgroup;
  return limiting ? *limiting : t.nodes[i].rel;
}

void limit_levels(const HintTree& t, size_t i, std::vector<LimitLevel>& out) {
  out.clear();
  for (int j = static_cast<int>(i); j >= 0; j = t.nodes[j].parent) out.push_back({t.nodes[j].rel, t.nodes[j].limit});
  for (const auto& l : t.above[t.nodes[root_of(t, i)].above]) out.push_back(l);
}

}  // namespace ow::gomemlimit
