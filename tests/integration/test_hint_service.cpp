// Root: the daemon's GOMEMLIMIT hint service (hintsvc/service.hpp) on real
// cgroups. Each test publishes with its own xattr name, hint directory and
// pin (/sys/fs/bpf/owtest-...), so it never clashes with a running daemon,
// and a guard removes all of it on every path.
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "../bpf/test_bpfmem_map.hpp"
#include "hintsvc/service.hpp"
#include "bpf/loader.hpp"
#include "cgroup/scoped.hpp"
#include "gomemlimit/inputs.hpp"
#include "helpers.hpp"
#include "sampler/sampler.hpp"
#include "workload.hpp"
#include "oomwatch.h"
#include "util/fs.hpp"

namespace {

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// Test-only publication places; whatever happens, nothing stays behind.
struct Places {
  ow::gomemlimit::PublishOptions opts;
  std::string base;
  std::vector<std::string> dirs;  // cgroup dirs that may carry the test xattr
  explicit Places(const std::string& tag) {
    std::string u = tag + "-" + std::to_string(::getpid());
    base = "/tmp/owtest-hints-" + u;
    opts.xattr_name = "user.owtest.gomemlimit";
    opts.hint_dir = base + "/gomemlimit";
    opts.pin_path = "/sys/fs/bpf/owtest-hints-" + u + "/gomemlimit";
  }
  ~Places() {
    for (const auto& d : dirs) ::removexattr(d.c_str(), opts.xattr_name.c_str());
    ::unlink(opts.pin_path.c_str());
    ::rmdir(opts.pin_path.substr(0, opts.pin_path.rfind('/')).c_str());
    if (DIR* d = ::opendir(opts.hint_dir.c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.' || std::string(e->d_name).size() > 2)
          ::unlink((opts.hint_dir + "/" + e->d_name).c_str());
      ::closedir(d);
    }
    ::rmdir(opts.hint_dir.c_str());
    ::rmdir(base.c_str());
  }
  std::string file(uint64_t id) const { return opts.hint_dir + "/" + std::to_string(id); }
  std::string xattr(const std::string& dir) const {
    char buf[64];
    ssize_t n = ::getxattr(dir.c_str(), opts.xattr_name.c_str(), buf, sizeof buf);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
  }
  // hint_bytes of the map entry of `id`; nullopt when the pin or the entry is missing.
  std::optional<ow_gomemlimit_hint> map_entry(uint64_t id) const {
    int fd = bpf_obj_get(opts.pin_path.c_str());
    if (fd < 0) return std::nullopt;
    __u64 key = id;
    ow_gomemlimit_hint v{};
    int rc = bpf_map_lookup_elem(fd, &key, &v);
    ::close(fd);
    if (rc != 0) return std::nullopt;
    return v;
  }
};

// Removes scoped cgroups made parents first, children before their parents.
struct RemoveInReverse {
  std::vector<ow::cg::ScopedCgroup>& v;
  ~RemoveInReverse() {
    while (!v.empty()) v.pop_back();
  }
};

// Shuts the service down on every path (the guard runs before Places' cleanup).
struct ServiceGuard {
  std::unique_ptr<ow::hintsvc::HintService> s;
  ~ServiceGuard() {
    if (s) (void)s->shutdown();
  }
};

uint64_t cli_hint(const std::string& cg) {
  auto r = owtest::run({owtest::oomwatch_bin(), "gomemlimit", "--cgroup", cg});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  uint64_t v = 0;
  REQUIRE(ow::parse_u64(ow::trim(r.out), v));
  return v;
}

// Kernel memory a process left in the cgroup is still being freed (RCU,
// per-cpu stocks) for a while after it exits: the figures of two moments
// then differ by some KiB, against drops of MiBs checked alongside.
bool near(uint64_t a, uint64_t b, uint64_t slack = 256 << 10) { return a > b ? a - b <= slack : b - a <= slack; }

// The value in all three places, or 0 when they disagree or one is missing.
uint64_t published_everywhere(const Places& p, const std::string& dir, uint64_t id) {
  std::string x = p.xattr(dir);
  auto f = ow::read_text(p.file(id));
  auto m = p.map_entry(id);
  INFO("xattr '" << x << "' file '" << (f ? *f : std::string("<none>")) << "' map "
                 << (m ? std::to_string(m->hint_bytes) : std::string("<none>")));
  uint64_t v = 0;
  if (!ow::parse_u64(x, v) || !f || *f != x + "\n" || !m || m->hint_bytes != v) return 0;
  return v;
}

}  // namespace

TEST_CASE("hint service publishes, follows limit changes, lowers first, withdraws on shutdown",
          "[integration][hints]") {
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(64ull << 20, "owtest-hints");
  std::string dir = h.abs(cg.path());
  uint64_t id = *h.id_of(cg.path());
  Places places("svc");
  places.dirs.push_back(dir);

  ow::hintsvc::HintOptions o;
  o.roots = {cg.path()};  // only the test's cgroup: never anyone else's
  o.publish = places.opts;
  ServiceGuard g;
  auto svc = ow::hintsvc::HintService::open(h, o);
  REQUIRE(svc.ok());
  g.s = std::move(*svc);
  auto& s = *g.s;
  CHECK(exists(places.opts.pin_path));  // pinned at open
  CHECK_FALSE(exists(places.file(id)));  // nothing before the first tick

  int64_t t0 = mono_ns();
  REQUIRE(s.tick(t0, true));
  CHECK(s.last_tick().walked == 1);
  CHECK(s.last_tick().targets == 1);
  CHECK(s.last_tick().published == 1);
  CHECK(s.last_tick().failed == 0);
  CHECK(s.last_tick().ebpf_measured);
  uint64_t v64 = published_everywhere(places, dir, id);
  REQUIRE(v64 > 0);
  CHECK(v64 < (64ull << 20));
  CHECK(s.published_value(cg.path()) == v64);
  auto e = places.map_entry(id);
  REQUIRE(e);
  CHECK(e->effective_limit_bytes == 64ull << 20);
  CHECK(e->ts_ns > 0);
  // the one-shot command computes the same hint from the same figures
  CHECK(cli_hint(cg.path()) == v64);

  // Not due yet within the period; due after it.
  CHECK_FALSE(s.tick(t0 + 1'000'000'000));
  CHECK(s.tick(t0 + o.period_ns));
  CHECK(published_everywhere(places, dir, id) == v64);

  // The daemon raises the limit, then refreshes: the hint follows at once.
  REQUIRE(h.set_limit(cg.path(), 128ull << 20).ok());
  auto v128 = s.refresh(cg.path());
  REQUIRE(v128.ok());
  CHECK(*v128 > v64);
  CHECK(published_everywhere(places, dir, id) == *v128);
  CHECK(places.map_entry(id)->effective_limit_bytes == 128ull << 20);
  CHECK(cli_hint(cg.path()) == *v128);

  // Before lowering to 32M: the hint is already the 32M one while the limit is still 128M.
  auto v32 = s.lower_before(cg.path(), 32ull << 20);
  REQUIRE(v32.ok());
  CHECK(*v32 < v64);
  CHECK(h.limit(cg.path()).value_or(0) == 128ull << 20);
  CHECK(published_everywhere(places, dir, id) == *v32);
  CHECK(places.map_entry(id)->effective_limit_bytes == 32ull << 20);
  REQUIRE(h.set_limit(cg.path(), 32ull << 20).ok());
  CHECK(cli_hint(cg.path()) == *v32);
  auto after = s.refresh(cg.path());
  REQUIRE(after.ok());
  CHECK(*after == *v32);
  // 12 MiB of tmpfs charged to the cgroup (shmem: the Go heap cannot use it).
  // Lowering to 8M leaves no room for a hint: refused, the current hint kept.
  struct Shm {
    std::string path = "/dev/shm/owtest-hints-" + std::to_string(::getpid());
    ~Shm() { ::unlink(path.c_str()); }
  } shm;
  auto w = ow::cg::spawn_in(h, cg.path(), {"sh", "-c", "head -c 12582912 /dev/zero > " + shm.path});
  REQUIRE(w.ok());
  REQUIRE(ow::cg::wait_child(*w).exit_code == 0);
  auto none = s.lower_before(cg.path(), 8ull << 20);
  CHECK_FALSE(none.ok());
  if (!none.ok()) CHECK(none.error().message().find("no positive GOMEMLIMIT") != std::string::npos);
  CHECK(published_everywhere(places, dir, id) == *v32);
  // At its 32M limit the shmem lowers the hint, which the next tick publishes.
  REQUIRE(s.tick(t0 + 2 * o.period_ns));
  uint64_t vshm = published_everywhere(places, dir, id);
  CHECK(vshm > 0);
  CHECK(vshm < *v32 - (8ull << 20));
  uint64_t cli_shm = cli_hint(cg.path());
  INFO("service " << vshm << ", one-shot " << cli_shm);
  CHECK(near(cli_shm, vshm));
  // Outside the roots: refused.
  CHECK_FALSE(s.refresh(h.self()).ok());

  CHECK(s.maybe_log(t0));
  CHECK_FALSE(s.maybe_log(t0 + 1'000'000'000));

  REQUIRE(s.shutdown().ok());
  CHECK(places.xattr(dir).empty());
  CHECK_FALSE(exists(places.file(id)));
  CHECK_FALSE(exists(places.opts.pin_path));
  CHECK_FALSE(s.tick(t0 + 10 * o.period_ns, true));  // publishes nothing after shutdown
  CHECK_FALSE(exists(places.file(id)));
}

TEST_CASE("hint service: children inherit a parent's limit, removed cgroups lose their hint, eBPF counts once",
          "[integration][hints]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256ull << 20, "owtest-hints-p");
  auto child = ow::cg::ScopedCgroup::create(h, parent.path(), "kid", ow::kUnlimited);
  REQUIRE(child.ok());
  auto gone = ow::cg::ScopedCgroup::create(h, parent.path(), "gone", 64ull << 20);
  REQUIRE(gone.ok());
  uint64_t pid_ = *h.id_of(parent.path()), kid = *h.id_of(child->path()), gid = *h.id_of(gone->path());
  Places places("tree");
  places.dirs = {h.abs(parent.path()), h.abs(child->path()), h.abs(gone->path())};

  ow::hintsvc::HintOptions o;
  o.roots = {parent.path()};
  o.publish = places.opts;
  ServiceGuard g;
  auto svc = ow::hintsvc::HintService::open(h, o);
  REQUIRE(svc.ok());
  g.s = std::move(*svc);
  auto& s = *g.s;

  REQUIRE(s.tick(mono_ns(), true));
  CHECK(s.last_tick().walked == 3);
  CHECK(s.last_tick().targets == 3);
  CHECK(s.last_tick().published == 3);
  uint64_t vp = published_everywhere(places, h.abs(parent.path()), pid_);
  uint64_t vk = published_everywhere(places, h.abs(child->path()), kid);
  uint64_t vg = published_everywhere(places, h.abs(gone->path()), gid);
  CHECK(vp > 0);
  CHECK(vk > 0);  // no limit of its own: the parent's 256M is its effective limit
  CHECK(places.map_entry(kid)->effective_limit_bytes == 256ull << 20);
  CHECK(vg > 0);
  CHECK(vg < vk);
  CHECK(cli_hint(child->path()) == vk);

  // A map pinned from inside the child: charged to it, so the child's and
  // the parent's hints drop, the sibling's does not; and the service agrees
  // with the one-shot command, which walks the maps on its own.
  owtest::PinGuard pin(owtest::unique_pin("hints"));
  owtest::create_pinned_map_in(h, child->path(), pin.path);
  REQUIRE(s.tick(mono_ns(), true));
  CHECK(s.last_tick().ebpf_measured);
  CHECK(s.last_tick().ebpf_maps >= 1);
  uint64_t vk2 = published_everywhere(places, h.abs(child->path()), kid);
  CHECK(vk2 < vk - (1ull << 20));  // a 4 MiB+ map, times 0.8
  CHECK(places.map_entry(kid)->ebpf_bytes >= 4ull << 20);
  CHECK(places.map_entry(pid_)->ebpf_bytes >= 4ull << 20);
  CHECK(places.map_entry(gid)->ebpf_bytes == 0);
  CHECK(published_everywhere(places, h.abs(parent.path()), pid_) < vp);
  uint64_t cli_k2 = cli_hint(child->path());
  INFO("service " << vk2 << ", one-shot " << cli_k2);
  CHECK(near(cli_k2, vk2));

  // The sibling goes away: its file and map entry go with it at the next tick.
  REQUIRE(gone->remove().ok());
  REQUIRE(s.tick(mono_ns(), true));
  CHECK(s.last_tick().walked == 2);
  CHECK(s.last_tick().withdrawn == 1);
  CHECK_FALSE(exists(places.file(gid)));
  CHECK_FALSE(places.map_entry(gid));
  CHECK(s.published().count(gid) == 0);

  // The parent loses its limit: with no limit below machine memory anywhere
  // (the test's own cgroup is unlimited here), neither keeps a hint.
  uint64_t own = ow::gomemlimit::level_limit(h, h.self());
  REQUIRE(h.set_limit(parent.path(), ow::kUnlimited).ok());
  REQUIRE(s.tick(mono_ns(), true));
  if (own == ow::kUnlimited) {
    CHECK(s.last_tick().targets == 0);
    CHECK(s.last_tick().withdrawn == 2);
    CHECK_FALSE(exists(places.file(kid)));
    CHECK(places.xattr(h.abs(child->path())).empty());
    CHECK_FALSE(places.map_entry(pid_));
    CHECK(exists(places.opts.pin_path));  // the daemon keeps its pin until shutdown
  } else {
    WARN("the test's own cgroup is limited: both stay targets");
  }
  REQUIRE(s.shutdown().ok());
  CHECK_FALSE(exists(places.opts.pin_path));
}

// Hidden ([.scale]) from plain runs, where 1,000 mkdirs under qemu TCG would
// eat the VM tier's time budget; runs with "[hints]" or "[.scale]".
TEST_CASE("hint service tick at 1,000 limited cgroups: one eBPF walk, cost printed", "[integration][hints][.scale]") {
  auto h = owtest::hierarchy();
  auto top = owtest::make_cgroup(ow::kUnlimited, "owtest-hints-1k");
  // 10 groups of 100: 1,000 leaves with a limit, 10 unlimited middles.
  std::vector<ow::cg::ScopedCgroup> kids;
  kids.reserve(1010);
  int64_t c0 = mono_ns();
  for (int i = 0; i < 10; ++i) {
    auto mid = ow::cg::ScopedCgroup::create(h, top.path(), "m", ow::kUnlimited);
    REQUIRE(mid.ok());
    std::string mp = mid->path();
    kids.push_back(std::move(*mid));
    for (int j = 0; j < 100; ++j) {
      auto c = ow::cg::ScopedCgroup::create(h, mp, "c", (64ull + j) << 20);
      REQUIRE(c.ok());
      kids.push_back(std::move(*c));
    }
  }
  int64_t created_ns = mono_ns() - c0;
  Places places("1k");
  for (const auto& k : kids) places.dirs.push_back(h.abs(k.path()));
  RemoveInReverse rev{kids};

  ow::hintsvc::HintOptions o;
  o.roots = {top.path()};
  o.publish = places.opts;
  ServiceGuard g;
  auto svc = ow::hintsvc::HintService::open(h, o);
  REQUIRE(svc.ok());
  g.s = std::move(*svc);
  auto& s = *g.s;

  REQUIRE(s.tick(mono_ns(), true));  // first: every value new
  auto first = s.last_tick();
  CHECK(first.walked == 1011);
  CHECK(first.targets == 1000);
  CHECK(first.published == 1000);
  CHECK(first.rewritten == 1000);
  CHECK(first.failed == 0);
  std::vector<int64_t> steady;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(s.tick(mono_ns(), true));
    steady.push_back(s.last_tick().duration_ns);
  }
  auto last = s.last_tick();
  CHECK(last.published == 1000);
  std::sort(steady.begin(), steady.end());
  size_t files = 0;
  for (size_t i = 0; i < kids.size(); ++i)
    if (exists(places.file(*h.id_of(kids[i].path())))) ++files;
  CHECK(files == 1000);
  WARN("1,000 cgroups created in " << created_ns / 1000000 << " ms; first tick " << first.duration_ns / 1000
       << " us (walk+limits " << first.walk_ns / 1000 << " us, eBPF " << first.ebpf_ns / 1000 << " us over "
       << first.ebpf_maps << " maps, stat+compute+publish " << first.publish_ns / 1000 << " us); steady tick median "
       << steady[2] / 1000 << " us (walk+limits " << last.walk_ns / 1000 << " us, eBPF " << last.ebpf_ns / 1000
       << " us, stat+compute+publish " << last.publish_ns / 1000 << " us, rewritten " << last.rewritten << ")");
  REQUIRE(s.shutdown().ok());
  size_t left = 0;
  for (const auto& k : kids)
    if (exists(places.file(*h.id_of(k.path())))) ++left;
  CHECK(left == 0);
}

// What the agent does each second: hand the hint worker its snapshot. A tick
// from it publishes what a walking tick publishes, and reads memory.stat only
// of targets that moved (usage, inactive file, limit) since their last read.
TEST_CASE("hint service from snapshots: same hints as walking, memory.stat only where something moved",
          "[integration][hints]") {
  auto h = owtest::hierarchy();
  auto top = owtest::make_cgroup(ow::kUnlimited, "owtest-hints-snap");
  std::vector<ow::cg::ScopedCgroup> kids;
  for (int i = 0; i < 5; ++i) {
    auto c = ow::cg::ScopedCgroup::create(h, top.path(), "c", 256ull << 20);
    REQUIRE(c.ok());
    kids.push_back(std::move(*c));
  }
  RemoveInReverse rev{kids};
  Places places("snap");
  for (const auto& k : kids) places.dirs.push_back(h.abs(k.path()));
  ow::hintsvc::HintOptions o;
  o.roots = {top.path()};
  o.publish = places.opts;
  ServiceGuard g;
  auto svc = ow::hintsvc::HintService::open(h, o);
  REQUIRE(svc.ok());
  g.s = std::move(*svc);
  auto& s = *g.s;
  auto hint = [&](int i) { return s.published_value(kids[i].path()).value_or(0); };

  REQUIRE(s.tick(mono_ns(), true));  // walking: the reference
  CHECK_FALSE(s.last_tick().from_snapshot);
  std::vector<uint64_t> walked;
  for (int i = 0; i < 5; ++i) walked.push_back(hint(i));
  CHECK(walked[0] > 0);

  // The daemon's sampler: the whole hierarchy, through the iterator where it loads.
  ow::bpf::LoaderOptions lo;
  lo.oom_events = false;
  lo.snapshots = true;
  lo.memcg_v1 = h.version() == ow::cg::Version::V1;
  auto loader = ow::bpf::Loader::open(lo);
  auto smp = ow::sampler::Sampler::open(h, loader ? loader->get() : nullptr);
  REQUIRE(smp.ok());
  auto tick_from_snapshot = [&] {
    auto snap = (*smp)->take();
    REQUIRE(snap.ok());
    REQUIRE(s.tick(mono_ns(), *snap, true));
    const auto& r = s.last_tick();
    CHECK(r.from_snapshot);
    CHECK(r.targets == 5);
    CHECK(r.failed == 0);
    return r.stat_reads;
  };
  CHECK(tick_from_snapshot() == 5);  // nothing cached yet
  for (int i = 0; i < 5; ++i) CHECK(near(hint(i), walked[i]));
  CHECK(tick_from_snapshot() == 0);  // nothing moved: figures reused
  for (int i = 0; i < 5; ++i) CHECK(near(hint(i), walked[i]));

  // 16 MiB of shmem in the first: non-heap memory, so its hint drops (by
  // 16 MiB times the hint's ratio of what is left, 0.8 by default).
  owtest::Workload w(h.abs(kids[0].path()) + "/cgroup.procs", {{16ull << 20, 0, 60'000}}, /*shmem=*/true,
                     /*stay=*/true);
  for (int i = 0; i < 200 && h.usage(kids[0].path()).value_or(0) < (16ull << 20); ++i)
    ::usleep(20'000);
  REQUIRE(h.usage(kids[0].path()).value_or(0) >= (16ull << 20));
  CHECK(tick_from_snapshot() == 1);
  CHECK(hint(0) + (12ull << 20) < walked[0]);
  for (int i = 1; i < 5; ++i) CHECK(near(hint(i), walked[i]));

  // Half the limit on the second: re-read, and the hint follows (0.8 x 128 MiB lower).
  REQUIRE(h.set_limit(kids[1].path(), 128ull << 20).ok());
  CHECK(tick_from_snapshot() >= 1);
  CHECK(hint(1) + (96ull << 20) < walked[1]);
}
