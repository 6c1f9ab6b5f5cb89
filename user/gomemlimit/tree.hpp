// The cgroups a hint round works on, as a tree: the selected subtrees, each
// cgroup with its own limit and its effective one (the least of it and its
// ancestors), and the ancestors of each root. Also which cgroups a set of
// roots selects and eBPF charges summed per subtree. Pure: the limits come
// from a snapshot or from the caller's reads.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cgroup/parse.hpp"
#include "gomemlimit/calc.hpp"
#include "sampler/sample.hpp"
#include "util/result.hpp"
#include "util/units.hpp"

namespace ow::gomemlimit {

// "/a/b" -> "/a"; "/a" and "/" -> "/".
std::string parent_path(const std::string& rel);
// rel is one of roots or below one (empty roots: everything).
bool under_roots(const std::string& rel, const std::vector<std::string>& roots);
// Roots as configured -> the ones that select something: trailing slashes
// cut, duplicates and roots nested in another dropped, sorted. Error: a root
// that is not a path relative to the hierarchy root ("/kubepods").
Result<std::vector<std::string>> outer_roots(const std::vector<std::string>& roots);
// (cgroup path, bytes) per map -> bytes per subtree: each map counts for its
// cgroup and every ancestor up to "/". A path not starting with '/' (the
// cgroup is gone) counts nowhere.
std::unordered_map<std::string, uint64_t> subtree_sums(const std::vector<std::pair<std::string, uint64_t>>& charges);

// A level's limit as a snapshot gives it (level_limit's rule: v2
// memory.high counts as a limit).
uint64_t sample_limit(const sampler::Sample& s, cg::Version v);

struct TreeNode {
  std::string rel;
  uint64_t id = 0;
  int parent = -1;              // index in HintTree::nodes; -1: a root (its ancestors are in `above`)
  int above = -1;               // roots only: index into HintTree::above
  uint64_t limit = kUnlimited;  // this level's limit
  uint64_t eff = kUnlimited;    // min over this level and every ancestor
  const sampler::Sample* sample = nullptr;  // rounds from a snapshot: its figures
};

struct HintTree {
  std::vector<TreeNode> nodes;                 // each root, then its subtree, parents before children
  std::vector<std::vector<LimitLevel>> above;  // per root: its ancestors, nearest first

  // Appends a root whose ancestors' limits are `ancestors` (nearest first);
  // fills its effective limit and returns its index.
  int add_root(std::string rel, uint64_t id, uint64_t limit, std::vector<LimitLevel> ancestors,
               const sampler::Sample* sample = nullptr);
  // Appends a child of nodes[parent]; returns its index.
  int add_child(int parent, std::string rel, uint64_t id, uint64_t limit, const sampler::Sample* sample = nullptr);
};

// Appends the descendants of nodes[root] found in the snapshot, parents
// before children. One whose parent is not in the snapshot (created between
// the two) is left out: the next round has it. The nodes point into snap.
void add_snapshot_descendants(HintTree& t, int root, const sampler::Snapshot& snap, cg::Version v);

// The level whose limit is nodes[i]'s effective one, nearest first
// (nodes[i] itself when no level has a limit); no copy of the chain.
const std::string& limiting_level(const HintTree& t, size_t i);
// nodes[i]'s levels for CalcInput::levels: itself first, then each ancestor
// up to "/". Replaces what `out` held.
void limit_levels(const HintTree& t, size_t i, std::vector<LimitLevel>& out);

}  // namespace ow::gomemlimit
