// The cgroups a hint round works on (gomemlimit/tree.hpp): roots, subtree
// sums of eBPF charges, the tree from a snapshot, the limiting level.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gomemlimit/tree.hpp"

using namespace ow;

namespace {
constexpr uint64_t MiB = 1ull << 20;

sampler::Sample sample(const char* path, uint64_t id, uint64_t limit, uint64_t high = kUnlimited) {
  sampler::Sample s;
  s.cgroup = path;
  s.cgroup_id = id;
  s.limit_bytes = limit;
  s.high_bytes = high;
  return s;
}

std::vector<std::string> paths(const gomemlimit::HintTree& t) {
  std::vector<std::string> out;
  for (const auto& n : t.nodes) out.push_back(n.rel);
  return out;
}
}  // namespace

TEST_CASE("gomemlimit: parent paths", "[unit][hints]") {
  const std::pair<const char*, const char*> rows[] = {{"/a/b/c", "/a/b"}, {"/a", "/"}, {"/", "/"}, {"a", "/"}};
  for (const auto& [in, want] : rows) {
    CAPTURE(in);
    CHECK(gomemlimit::parent_path(in) == want);
  }
}

TEST_CASE("gomemlimit: which cgroups roots select", "[unit][hints]") {
  struct Row {
    const char* rel;
    std::vector<std::string> roots;
    bool under;
  };
  const Row rows[] = {
      {"/x/y", {}, true},          {"/a", {"/a"}, true},  {"/a/b/c", {"/z", "/a"}, true},
      {"/ab", {"/a"}, false},      {"/", {"/a"}, false},  {"/anything", {"/"}, true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.rel, r.roots);
    CHECK(gomemlimit::under_roots(r.rel, r.roots) == r.under);
  }
}

TEST_CASE("gomemlimit: configured roots to the outer ones", "[unit][hints]") {
  struct Row {
    std::vector<std::string> in;
    std::vector<std::string> want;
  };
  const Row rows[] = {
      {{}, {}},
      {{"/b", "/a"}, {"/a", "/b"}},
      {{"/a/", "/a//"}, {"/a"}},
      {{"/a/b", "/a", "/ab"}, {"/a", "/ab"}},
      {{"/x", "/"}, {"/"}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto got = gomemlimit::outer_roots(r.in);
    REQUIRE(got.ok());
    CHECK(*got == r.want);
  }
  for (const char* bad : {"", "kubepods", "a/b"}) {
    CAPTURE(bad);
    auto got = gomemlimit::outer_roots({"/ok", bad});
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().message().find("want a path relative to the hierarchy root") != std::string::npos);
  }
}

TEST_CASE("gomemlimit: eBPF charges summed per subtree", "[unit][hints]") {
  auto s = gomemlimit::subtree_sums({{"/a/b", 100}, {"/a", 10}, {"/c", 1}, {"/", 1000}, {"", 5}});
  const std::pair<const char*, uint64_t> rows[] = {{"/a/b", 100}, {"/a", 110}, {"/c", 1}, {"/", 1111}};
  for (const auto& [path, bytes] : rows) {
    CAPTURE(path);
    CHECK(s[path] == bytes);  // the gone cgroup's map ("") counts nowhere
  }
  CHECK(s.count("/d") == 0);
}

TEST_CASE("gomemlimit: a level's limit from a snapshot", "[unit][hints]") {
  struct Row {
    cg::Version v;
    uint64_t max, high, want;
  };
  const Row rows[] = {
      {cg::Version::V2, 512 * MiB, 256 * MiB, 256 * MiB},  // v2 memory.high counts
      {cg::Version::V2, 256 * MiB, kUnlimited, 256 * MiB},
      {cg::Version::V1, 512 * MiB, 256 * MiB, 512 * MiB},  // v1 has no memory.high
      {cg::Version::V1, kUnlimited, kUnlimited, kUnlimited},
  };
  for (const auto& r : rows) CHECK(gomemlimit::sample_limit(sample("/a", 1, r.max, r.high), r.v) == r.want);
}

TEST_CASE("gomemlimit: the tree from a snapshot, limits and the limiting level", "[unit][hints]") {
  sampler::Snapshot snap;
  snap.samples = {
      sample("/", 1, kUnlimited),
      sample("/k", 2, 1024 * MiB),
      sample("/k/b", 4, kUnlimited),
      sample("/k/a", 3, 256 * MiB),
      sample("/k/a/x", 5, 512 * MiB),
      sample("/k/orphan/y", 6, 64 * MiB),  // its parent is not in the snapshot
      sample("/kk", 7, 64 * MiB),          // a sibling whose name starts like the root
  };
  gomemlimit::HintTree t;
  int root = t.add_root("/k", 2, 1024 * MiB, {{"/", 2048 * MiB}}, &snap.samples[1]);
  gomemlimit::add_snapshot_descendants(t, root, snap, cg::Version::V1);
  CHECK(paths(t) == std::vector<std::string>{"/k", "/k/a", "/k/a/x", "/k/b"});

  struct Row {
    size_t i;
    uint64_t eff;
    const char* limit_at;
    std::vector<std::string> levels;
  };
  const Row rows[] = {
      {0, 1024 * MiB, "/k", {"/k", "/"}},
      {1, 256 * MiB, "/k/a", {"/k/a", "/k", "/"}},
      {2, 256 * MiB, "/k/a", {"/k/a/x", "/k/a", "/k", "/"}},
      {3, 1024 * MiB, "/k", {"/k/b", "/k", "/"}},
  };
  std::vector<gomemlimit::LimitLevel> levels;
  for (const auto& r : rows) {
    CAPTURE(t.nodes[r.i].rel);
    CHECK(t.nodes[r.i].eff == r.eff);
    CHECK(gomemlimit::limiting_level(t, r.i) == r.limit_at);
    gomemlimit::limit_levels(t, r.i, levels);
    std::vector<std::string> got;
    for (const auto& l : levels) got.push_back(l.cgroup);
    CHECK(got == r.levels);
  }
  CHECK(t.nodes[2].sample == &snap.samples[4]);
  CHECK(t.nodes[2].parent == 1);
}

TEST_CASE("gomemlimit: the limiting level is an ancestor above the root, or none", "[unit][hints]") {
  gomemlimit::HintTree t;
  int a = t.add_root("/a", 10, kUnlimited, {{"/", 128 * MiB}});
  t.add_child(a, "/a/b", 11, kUnlimited);
  int c = t.add_root("/c", 12, kUnlimited, {{"/", kUnlimited}});
  CHECK(t.nodes[1].eff == 128 * MiB);
  CHECK(gomemlimit::limiting_level(t, 1) == "/");
  CHECK(t.nodes[c].eff == kUnlimited);
  CHECK(gomemlimit::limiting_level(t, c) == "/c");  // no limit anywhere: the cgroup itself
}
