// Root: the iter/cgroup snapshot sees every memcg, also when the hierarchy is
// larger than one walk segment, and agrees with the cgroup's own files.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/btf_raw.hpp"
#include "bpf/loader.hpp"
#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "sampler/sampler.hpp"
#include "util/fs.hpp"
#include "workload.hpp"

using namespace ow;

namespace {
// copy: the program 6.1 loads (copies instead of plain loads), on any kernel.
std::unique_ptr<bpf::Loader> snapshot_loader(const cg::Hierarchy& h, uint32_t cap, bool copy = false) {
  bpf::LoaderOptions o;
  o.snap_copy = copy;
  o.oom_events = false;
  o.snapshots = true;
  o.snap_cap = cap;
  o.memcg_v1 = h.version() == cg::Version::V1;
  auto l = bpf::Loader::open(o);
  if (!l) FAIL(l.error().message());
  if (copy) REQUIRE(std::string(bpf_program__name((*l)->snap_prog())) == "snap_memcg_copy");
  return std::move(*l);
}

// A file on disk (not tmpfs: its pages must be page cache), removed on every path.
struct TempFile {
  std::string path = "/var/tmp/owtest-ws-" + std::to_string(::getpid()) + ".dat";
  ~TempFile() { ::unlink(path.c_str()); }
};

// Writes `bytes` to `path` from a child that first joins the cgroup, so the
// page cache is charged there; fsync so no writeback is left in flight.
void write_file_in(const cg::Hierarchy& h, const std::string& rel, const std::string& path, size_t bytes) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!h.move_pid(rel, ::getpid())) ::_exit(3);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) ::_exit(4);
    std::vector<char> buf(1 << 20, 'w');
    for (size_t done = 0; done < bytes; done += buf.size())
      if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) ::_exit(5);
    if (::fsync(fd) != 0) ::_exit(6);
    ::_exit(::close(fd) == 0 ? 0 : 7);
  }
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) == 0);
}

uint64_t stat_of(const cg::Hierarchy& h, const std::string& rel, const std::string& key) {
  auto st = h.stat(rel);
  REQUIRE(st.ok());
  auto it = st->find(key);
  REQUIRE(it != st->end());
  return it->second;
}

uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }
}  // namespace

TEST_CASE("1,000 empty cgroups are all in a snapshot read in segments", "[bpf][snapshot]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-many");
  std::set<std::string> want;
  for (int i = 0; i < 1000; ++i) {
    std::string rel = cg::join_rel(parent.path(), "c" + std::to_string(i));
    REQUIRE(h.create(rel).ok());
    want.insert(rel);
  }
  auto l = snapshot_loader(h, 256);  // 1,000+ cgroups need at least 4 walks
  REQUIRE(l->snapshots_loaded());
  auto src = sampler::BpfSource::open(*l, h);
  REQUIRE(src.ok());
  auto s = sampler::Sampler::open(h, l.get(), {parent.path()});
  REQUIRE(s.ok());
  CHECK(std::string((*s)->source_name()) == "bpf-iter");
  auto snap = (*s)->take();
  REQUIRE(snap.ok());
  std::set<std::string> got;
  for (const auto& x : snap->samples) got.insert(x.cgroup);
  got.erase(parent.path());
  CHECK(got.size() == want.size());
  CHECK(got == want);
  auto raw = (*src)->read();
  REQUIRE(raw.ok());
  CHECK((*src)->walks_last_read() >= 4);
}

TEST_CASE("iterator figures agree with the cgroup's files", "[bpf][snapshot]") {
  const bool copy = GENERATE(false, true);  // both snapshot programs (copy: 6.1's)
  CAPTURE(copy);
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(64ull << 20, "owtest-snap");
  REQUIRE(owtest::hold_24mib(h, cg.path()));  // ~24 MiB of anon memory, held by a real process
  REQUIRE(h.read(cg.path())->usage_bytes > (20ull << 20));
  auto l = snapshot_loader(h, 16384, copy);
  auto s = sampler::Sampler::open(h, l.get(), {cg.path()});
  REQUIRE(s.ok());
  auto snap = (*s)->take();
  auto files = h.read(cg.path());
  REQUIRE(snap.ok());
  REQUIRE(files.ok());
  REQUIRE(snap->samples.size() == 1);
  const auto& x = snap->samples[0];
  CHECK(x.cgroup_id == *h.id_of(cg.path()));
  CHECK(x.limit_bytes == 64ull << 20);
  CHECK(x.peak_bytes == files->peak_bytes);
  // usage moves a little between the two reads (page cache, kernel objects)
  CHECK(x.usage_bytes == Approx(files->usage_bytes).epsilon(0.05));
  CHECK(x.ev_oom_kill == files->events.oom_kill);
  sampler::FileSource fs(h, cg.path());
  auto f = fs.read();
  REQUIRE(f.ok());
  REQUIRE(f->size() == 1);
  CHECK((*f)[0].limit_bytes == x.limit_bytes);
  CHECK((*f)[0].peak_bytes == x.peak_bytes);
}

TEST_CASE("working set: usage minus the hierarchical inactive file pages, as memory.stat says",
          "[bpf][snapshot][working_set]") {
  const bool copy = GENERATE(false, true);  // both snapshot programs (copy: 6.1's)
  CAPTURE(copy);
  auto h = owtest::hierarchy();
  const std::string key = sampler::inactive_file_key(h.version());
  auto cg = owtest::make_cgroup(256ull << 20, "owtest-ws");
  // Processes live in leaves (v2's no-internal-processes rule): "work" holds
  // 32 MiB of page cache and 16 MiB of anon, "kid" 8 MiB of page cache. The
  // figures are hierarchical: cg's include both.
  auto work_rel = cg::join_rel(cg.path(), "work");
  auto child_rel = cg::join_rel(cg.path(), "kid");
  REQUIRE(h.create(work_rel).ok());
  REQUIRE(h.create(child_rel).ok());
  struct Rmdir {
    const cg::Hierarchy& h;
    std::string a, b;
    ~Rmdir() {
      ::rmdir(h.abs(a).c_str());
      ::rmdir(h.abs(b).c_str());
    }
  } rmdirs{h, work_rel, child_rel};
  TempFile file;  // declared after the cgroups: removed (page cache freed) before them
  write_file_in(h, work_rel, file.path, 32ull << 20);
  owtest::Workload anon(h.abs(work_rel) + "/cgroup.procs", {{16ull << 20, 0, 0}}, false, /*stay=*/true);
  REQUIRE(owtest::wait_for([&] { return h.usage(cg.path()).value_or(0) >= (47ull << 20); }, 10000));
  TempFile kid_file;
  kid_file.path += ".kid";
  write_file_in(h, child_rel, kid_file.path, 8ull << 20);

  auto l = snapshot_loader(h, 16384, copy);
  auto s = sampler::Sampler::open(h, l.get(), {cg.path()});
  REQUIRE(s.ok());
  // Twice: the first read also checks the layout against memory.stat.
  REQUIRE((*s)->take().ok());
  auto snap = (*s)->take();
  REQUIRE(snap.ok());
  CHECK(std::string((*s)->working_set_source()) == "bpf-iter");
  const uint64_t usage = *h.usage(cg.path());
  const uint64_t inactive = stat_of(h, cg.path(), key);
  const uint64_t want_ws = usage > inactive ? usage - inactive : 0;
  const sampler::Sample* x = nullptr;
  const sampler::Sample* kid = nullptr;
  for (const auto& y : snap->samples) {
    if (y.cgroup == cg.path()) x = &y;
    if (y.cgroup == child_rel) kid = &y;
  }
  REQUIRE(x != nullptr);
  REQUIRE(kid != nullptr);
  const uint64_t bound = std::max<uint64_t>(usage / 100, sampler::BpfSource::lag_bound_bytes());
  std::printf("working set: usage %llu, %s %llu (memory.stat) vs %llu (BPF), working set %llu vs %llu: "
              "off by %llu bytes (bound %llu)\n",
              (unsigned long long)usage, key.c_str(), (unsigned long long)inactive,
              (unsigned long long)x->inactive_file_bytes, (unsigned long long)want_ws,
              (unsigned long long)x->working_set_bytes, (unsigned long long)absdiff(x->working_set_bytes, want_ws),
              (unsigned long long)bound);
  // Most of the 40 MiB written is inactive page cache; the 16 MiB anon is working set.
  CHECK(x->inactive_file_bytes >= (30ull << 20));
  CHECK(x->working_set_bytes >= (15ull << 20));
  CHECK(x->working_set_bytes == x->usage_bytes - x->inactive_file_bytes);
  CHECK(absdiff(x->inactive_file_bytes, inactive) <= bound);
  CHECK(absdiff(x->working_set_bytes, want_ws) <= bound);
  // Hierarchical: the parent's count holds the child's 8 MiB.
  CHECK(absdiff(kid->inactive_file_bytes, stat_of(h, child_rel, key)) <= bound);
  CHECK(kid->inactive_file_bytes >= (7ull << 20));
  CHECK(x->inactive_file_bytes >= kid->inactive_file_bytes + (24ull << 20));

  // The files source computes the same from cgroupfs.
  sampler::FileSource fs(h, cg.path());
  auto f = fs.read();
  REQUIRE(f.ok());
  const sampler::Sample* fx = nullptr;
  for (const auto& y : *f)
    if (y.cgroup == cg.path()) fx = &y;
  REQUIRE(fx != nullptr);
  CHECK(absdiff(fx->inactive_file_bytes, inactive) <= bound);
  CHECK(fx->working_set_bytes == (fx->usage_bytes > fx->inactive_file_bytes ? fx->usage_bytes - fx->inactive_file_bytes : 0));
  CHECK(absdiff(fx->working_set_bytes, x->working_set_bytes) <= bound);
}

TEST_CASE("working set is floored at 0 and an empty cgroup has none", "[bpf][snapshot][working_set]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(ow::kUnlimited, "owtest-ws0");
  auto l = snapshot_loader(h, 16384);
  auto src = sampler::BpfSource::open(*l, h, cg.path());
  REQUIRE(src.ok());
  auto r = (*src)->read();
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].inactive_file_bytes <= (*r)[0].usage_bytes + sampler::BpfSource::lag_bound_bytes());
  CHECK((*r)[0].working_set_bytes <= (*r)[0].usage_bytes);
  CHECK((*src)->fills_inactive_file());
}

// A walk rewrites only the slots whose cgroup or memory counter moved (and
// each slot at least once every refresh_every walks); the others keep the
// record of their last rewrite. From userspace every snapshot must still hold
// every live cgroup with its current figures.
TEST_CASE("records left standing: unmoved cgroups keep their figures, moved, new and removed ones show",
          "[bpf][snapshot]") {
  const bool copy = GENERATE(false, true);  // both snapshot programs (copy: 6.1's)
  CAPTURE(copy);
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-standing");
  std::map<uint64_t, std::string> path_of;  // id -> rel
  for (int i = 0; i < 20; ++i) {
    std::string rel = cg::join_rel(parent.path(), "c" + std::to_string(i));
    REQUIRE(h.create(rel).ok());
    path_of[*h.id_of(rel)] = rel;
  }
  path_of[*h.id_of(parent.path())] = parent.path();
  auto l = snapshot_loader(h, 256, copy);
  sampler::BpfSourceOptions o;
  o.refresh_every = 4;
  auto src = sampler::BpfSource::open(*l, h, parent.path(), o);
  REQUIRE(src.ok());
  // Each sample against the cgroup's own files, read just before and just
  // after the walk, and the set of ids. Bracketed: an idle cgroup's usage
  // still moves by itself (a process that ran there exits, and its kernel
  // stack and task struct, charged to the cgroup, are freed a grace period
  // later: one page, seen under an arm64 guest), so the walk's figure lies
  // between the two reads; a record left standing from an earlier walk
  // would not. Limits do not move by themselves: equal.
  using Figures = std::map<uint64_t, cg::MemUsage>;
  auto files = [&] {
    Figures f;
    for (const auto& [id, rel] : path_of) {
      auto r = h.read(rel);
      REQUIRE(r.ok());
      f[id] = *r;
    }
    return f;
  };
  Figures before;
  auto walk = [&] {
    before = files();
    return (*src)->read();
  };
  auto check_all = [&](const std::vector<sampler::Sample>& got) {
    const Figures after = files();
    std::set<uint64_t> ids;
    for (const auto& x : got) {
      ids.insert(x.cgroup_id);
      auto it = path_of.find(x.cgroup_id);
      REQUIRE(it != path_of.end());
      INFO(it->second);
      const auto &b = before.at(x.cgroup_id), &a = after.at(x.cgroup_id);
      CHECK(x.usage_bytes >= std::min(b.usage_bytes, a.usage_bytes));
      CHECK(x.usage_bytes <= std::max(b.usage_bytes, a.usage_bytes));
      CHECK(x.limit_bytes == a.limit_bytes);
      CHECK(x.peak_bytes >= b.peak_bytes);
      CHECK(x.peak_bytes <= a.peak_bytes);
    }
    std::set<uint64_t> want;
    for (const auto& [id, rel] : path_of) want.insert(id);
    CHECK(ids == want);
    CHECK(got.size() == want.size());
  };

  auto first = walk();
  REQUIRE(first.ok());
  CHECK((*src)->fresh_last_read() == 21);  // the first read rewrites every slot
  check_all(*first);

  // Nothing was made to move: a quarter of the slots (their turn) are
  // rewritten, the rest stand. Every figure lies between the file reads
  // around the walk; a cgroup whose usage file read the same before the first
  // walk and after this one is the first read, figure for figure. (The
  // parent's usage can still fall by itself here, 20 mkdirs' kernel memory
  // freed a grace period later: seen as 256 KiB -> 180 KiB in a v2 guest.)
  const Figures first_before = before;
  auto again = walk();
  REQUIRE(again.ok());
  CHECK((*src)->fresh_last_read() <= 6);
  check_all(*again);
  const Figures again_after = files();
  REQUIRE(again->size() == first->size());
  size_t same_figures = 0;
  for (size_t i = 0; i < first->size(); ++i) {
    const auto &a = (*first)[i], &b = (*again)[i];
    CHECK(a.cgroup_id == b.cgroup_id);
    CHECK(a.limit_bytes == b.limit_bytes);
    CHECK(a.ev_oom_kill == b.ev_oom_kill);
    if (first_before.at(a.cgroup_id).usage_bytes != again_after.at(a.cgroup_id).usage_bytes) continue;
    ++same_figures;
    INFO(path_of.at(a.cgroup_id));
    CHECK(a.usage_bytes == b.usage_bytes);
    CHECK(a.peak_bytes == b.peak_bytes);
    CHECK(a.inactive_file_bytes == b.inactive_file_bytes);
  }
  CHECK(same_figures >= 10);  // most of the 21 stand still; the exact check ran

  // Usage moves in c5 (page cache charged there): rewritten at the next read.
  const std::string c5 = cg::join_rel(parent.path(), "c5");
  TempFile file;
  write_file_in(h, c5, file.path, 8u << 20);
  auto moved = walk();
  REQUIRE(moved.ok());
  CHECK((*src)->fresh_last_read() >= 1);
  bool seen_c5 = false;
  for (const auto& x : *moved)
    if (x.cgroup_id == *h.id_of(c5)) {
      seen_c5 = true;
      CHECK(x.usage_bytes >= (8u << 20));
      CHECK(x.inactive_file_bytes > 0);
    }
  CHECK(seen_c5);
  check_all(*moved);

  // A limit written while usage stands still is in the compared fold: it
  // shows at the very next walk (hints and the v2 guard follow limits).
  const std::string c3 = cg::join_rel(parent.path(), "c3");
  REQUIRE(h.set_limit(c3, 256ull << 20).ok());
  {
    auto r = walk();
    REQUIRE(r.ok());
    bool limit_seen = false;
    for (const auto& x : *r)
      if (x.cgroup_id == *h.id_of(c3)) limit_seen = x.limit_bytes == (256ull << 20);
    CHECK(limit_seen);
    check_all(*r);
  }

  // c7 removed, c20 created: the slots from c7 on hold other cgroups now.
  const std::string c7 = cg::join_rel(parent.path(), "c7");
  path_of.erase(*h.id_of(c7));
  REQUIRE(h.remove(c7).ok());
  const std::string c20 = cg::join_rel(parent.path(), "c20");
  REQUIRE(h.create(c20).ok());
  path_of[*h.id_of(c20)] = c20;
  auto shifted = walk();
  REQUIRE(shifted.ok());
  check_all(*shifted);
  auto steady = walk();
  REQUIRE(steady.ok());
  check_all(*steady);
}

// Walks further apart than refresh_ns (the agent's CPU budget stretched its
// interval) rewrite every slot, so the figures outside the compared fold
// (peak, swap, memory.events, the inactive file) are never a turn of
// minutes old: with nothing moving, every record is still rewritten.
TEST_CASE("records left standing: walks further apart than refresh_ns rewrite every slot", "[bpf][snapshot]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-standing-far");
  for (int i = 0; i < 8; ++i) REQUIRE(h.create(cg::join_rel(parent.path(), "c" + std::to_string(i))).ok());
  auto l = snapshot_loader(h, 64);
  sampler::BpfSourceOptions o;
  o.refresh_every = 10;
  o.refresh_ns = 1;  // any two walks are further apart than this
  auto src = sampler::BpfSource::open(*l, h, parent.path(), o);
  REQUIRE(src.ok());
  REQUIRE((*src)->read().ok());
  for (int walk = 0; walk < 3; ++walk) {
    REQUIRE((*src)->read().ok());
    CHECK((*src)->fresh_last_read() == 9);  // the parent and its 8 children
  }
}

// Where the kernel has bpf_rdonly_cast (6.2+) the loader picks the program
// of plain loads, the one the snapshot costs in docs/performance.md are for;
// on 6.1 the copying one. The kfunc's id reaches the program's calls from
// each of the loader's three sources: the BTF cache, the kernel BTF parsed
// for the tracepoints, one pass over the raw kernel BTF; and the walk reads.
TEST_CASE("the loader picks the snapshot program this kernel can verify", "[bpf][snapshot]") {
  const std::string from = GENERATE(as<std::string>{}, "raw BTF pass", "BTF cache", "parsed BTF");
  CAPTURE(from);
  auto h = owtest::hierarchy();
  struct btf* vb = btf__load_vmlinux_btf();
  REQUIRE(vb != nullptr);
  const int cast_id = btf__find_by_name_kind(vb, "bpf_rdonly_cast", BTF_KIND_FUNC);
  btf__free(vb);
  auto raw_id = bpf::kernel_btf_func_id("bpf_rdonly_cast");
  REQUIRE(raw_id.ok());
  CHECK(*raw_id == std::max(0, cast_id));
  // The string-section lookup the loader probes the iterator with.
  auto has_iter = bpf::kernel_btf_has_name("bpf_iter__cgroup");
  auto has_none = bpf::kernel_btf_has_name("owtest_no_such_name");
  REQUIRE(has_iter.ok());
  REQUIRE(has_none.ok());
  CHECK(*has_iter);
  CHECK_FALSE(*has_none);
  owtest::TmpTree dir("owtest-loaderpick");
  bpf::LoaderOptions o;
  o.oom_events = from == "parsed BTF";
  o.snapshots = true;
  o.snap_cap = 64;
  o.memcg_v1 = h.version() == cg::Version::V1;
  if (from == "BTF cache") o.btf_cache_dir = dir.path;
  auto l = bpf::Loader::open(o);
  if (!l) FAIL(l.error().message());
  REQUIRE((*l)->snapshots_loaded());
  CHECK((*l)->core_btf_cached() == (from == "BTF cache"));
  CHECK(std::string(bpf_program__name((*l)->snap_prog())) == (cast_id > 0 ? "snap_memcg" : "snap_memcg_copy"));
  auto parent = owtest::make_cgroup(64ull << 20, "owtest-pick");
  auto src = sampler::BpfSource::open(**l, h, parent.path());
  REQUIRE(src.ok());
  auto got = (*src)->read();
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].cgroup_id == *h.id_of(parent.path()));
  CHECK((*got)[0].limit_bytes == 64ull << 20);
}
