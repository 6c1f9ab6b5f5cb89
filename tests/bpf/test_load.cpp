// Root: the real skeleton loads and attaches on this kernel, and the
// mark_victim logic runs under BPF_PROG_TEST_RUN with the test as "victim"
// (and, for the limit walk, with a child in real cgroups set at their limits).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "bpf/events.hpp"
#include "bpf/loader.hpp"
#include "helpers.hpp"
#include "oomwatch.skel.h"
#include "util/fs.hpp"
#include "skip.hpp"

using namespace ow;

TEST_CASE("skeleton loads and every required hook attaches", "[bpf]") {
  auto l = bpf::Loader::open({});
  REQUIRE(l.ok());
  bool seen = false;
  for (const auto& h : (*l)->hooks()) {
    INFO(h.tracepoint << " " << h.mode << " " << h.error);
    if (h.tracepoint == "mark_victim") {
      seen = true;
      CHECK(h.attached);
      CHECK((h.mode == "tp_btf" || h.mode == "raw_tp"));
    }
  }
  CHECK(seen);
  CHECK((*l)->events_fd() >= 0);
}

TEST_CASE("mark_victim handler decodes the current task under BPF_PROG_TEST_RUN", "[bpf]") {
  auto l = bpf::Loader::open({.oom_events = false, .test_programs = true});
  REQUIRE(l.ok());
  std::vector<ow_oom_event> got;
  auto rr = bpf::RingReader::open((*l)->events_fd(), [&](const ow_oom_event& e) { got.push_back(e); });
  REQUIRE(rr.ok());

  // Touch some anon memory so the rss figures are clearly non-zero.
  std::vector<char> buf(8 << 20, 1);
  __u64 args[1] = {4242};  // the "uid" argument
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
  int fd = bpf_program__fd((*l)->skel()->progs.test_mark_victim);
  REQUIRE(bpf_prog_test_run_opts(fd, &opts) == 0);
  REQUIRE((*rr)->poll(100).ok());
  REQUIRE(got.size() == 1);
  const auto& e = got[0];
  CHECK(e.tgid == static_cast<__u32>(::getpid()));
  auto comm = read_text("/proc/self/comm");
  CHECK(bpf::comm_string(e.comm) == std::string(trim(*comm)));
  if ((*l)->victim_arg_is_task()) {
    CHECK(e.uid == 4242);
    CHECK(e.anon_rss_bytes >= (8u << 20));
    CHECK(e.total_vm_bytes > e.anon_rss_bytes);
    CHECK(e.pgtables_bytes > 0);
    auto h = owtest::hierarchy();
    CHECK(e.memcg_id == *h.id_of(h.self()));
  }
  CHECK(e.memcg_id == e.trigger_memcg_id);
  CHECK((*l)->stat(OW_STAT_OOM_EVENTS) == 1);
  CHECK((*l)->stat(OW_STAT_RB_DROPS) == 0);
  CHECK(buf[100] == 1);
}

TEST_CASE("ring buffer overflow: every event is delivered or counted as dropped, and the stream goes on", "[bpf]") {
  auto l = bpf::Loader::open({.oom_events = false, .test_programs = true});
  REQUIRE(l.ok());
  size_t got = 0;
  auto rr = bpf::RingReader::open((*l)->events_fd(), [&](const ow_oom_event&) { ++got; });
  REQUIRE(rr.ok());
  int fd = bpf_program__fd((*l)->skel()->progs.test_mark_victim);
  __u64 args[1] = {1};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
  // More events than OW_RINGBUF_BYTES can hold, with nobody reading.
  const size_t fired = 2 * OW_RINGBUF_BYTES / sizeof(ow_oom_event);
  for (size_t i = 0; i < fired; ++i) REQUIRE(bpf_prog_test_run_opts(fd, &opts) == 0);
  uint64_t drops = (*l)->stat(OW_STAT_RB_DROPS);
  CHECK(drops > 0);
  while (got + drops < fired) {
    size_t before = got;
    REQUIRE((*rr)->poll(100).ok());
    if (got == before) break;
  }
  CHECK(got + drops == fired);  // nothing lost silently
  CHECK((*rr)->malformed() == 0);
  REQUIRE(bpf_prog_test_run_opts(fd, &opts) == 0);  // room again: the next one arrives
  REQUIRE((*rr)->poll(100).ok());
  CHECK(got + drops == fired + 1);
  CHECK((*l)->stat(OW_STAT_RB_DROPS) == drops);
}

// ---- the memcg whose limit was hit (fill_limit in bpf/oom.bpf.h) ----

namespace {

// A forked child in cgroup `rel` that touches `bytes` of anonymous memory
// there and then waits; fire() makes it run test_mark_victim, so the limit
// walk starts from `rel` (current's memcg) with that memory charged. The
// destructor kills and reaps it on every path; the ScopedCgroups (declared
// before it) then remove the cgroups.
class Charger {
 public:
  Charger(const cg::Hierarchy& h, const std::string& rel, size_t bytes, int prog_fd) {
    int to[2], from[2];
    if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0) FAIL("pipe");
    std::string procs = h.abs(rel) + "/cgroup.procs";
    pid_ = ::fork();
    if (pid_ < 0) FAIL("fork");
    if (pid_ == 0) {
      ::close(to[1]);
      ::close(from[0]);
      char buf[32];
      int n = std::snprintf(buf, sizeof buf, "%d", ::getpid());
      int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, buf, static_cast<size_t>(n)) != n) ::_exit(2);
      ::close(fd);
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) ::_exit(3);
      std::memset(p, 1, bytes);  // charged to `rel` now
      if (static_cast<volatile char*>(p)[bytes - 1] != 1) ::_exit(3);
      if (::write(from[1], "r", 1) != 1) ::_exit(4);
      char c;
      if (::read(to[0], &c, 1) != 1) ::_exit(5);  // the test gave up: no event
      __u64 args[1] = {0};
      LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
      ::_exit(bpf_prog_test_run_opts(prog_fd, &opts) == 0 ? 0 : 6);
    }
    ::close(to[0]);
    ::close(from[1]);
    go_ = to[1];
    ready_ = from[0];
  }
  ~Charger() {
    if (go_ >= 0) ::close(go_);
    if (ready_ >= 0) ::close(ready_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Charger(const Charger&) = delete;
  Charger& operator=(const Charger&) = delete;

  // True once the child is in its cgroup with its memory touched.
  bool ready() {
    char c;
    return ::read(ready_, &c, 1) == 1 && c == 'r';
  }
  // Runs test_mark_victim in the child; its exit code (0: the program ran).
  int fire() {
    if (::write(go_, "g", 1) != 1) return -1;
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1, ready_ = -1;
};

struct LimitFixture {
  std::unique_ptr<bpf::Loader> loader;
  std::unique_ptr<bpf::RingReader> reader;
  std::vector<ow_oom_event> got;

  LimitFixture() {
    auto l = bpf::Loader::open({.oom_events = false, .test_programs = true});
    if (!l) FAIL(l.error().message());
    loader = std::move(*l);
    auto rr = bpf::RingReader::open(loader->events_fd(), [this](const ow_oom_event& e) { got.push_back(e); });
    if (!rr) FAIL(rr.error().message());
    reader = std::move(*rr);
  }
  int prog_fd() const { return bpf_program__fd(loader->skel()->progs.test_mark_victim); }
  // Fires the child and returns the one event it produced.
  ow_oom_event fire(Charger& c) {
    REQUIRE(c.fire() == 0);
    REQUIRE(reader->poll(100).ok());
    REQUIRE(got.size() == 1);
    return got[0];
  }
};

// A limit just above the cgroup's usage: within the walk's slack (512 pages),
// as a cgroup is when a charge fails. Returns the limit as the kernel keeps it.
uint64_t limit_at_usage(const cg::Hierarchy& h, const std::string& rel) {
  auto u = h.usage(rel);
  REQUIRE(u.ok());
  uint64_t lim = *u + (1ull << 20);
  REQUIRE(h.set_limit(rel, lim).ok());
  auto got = h.limit(rel);
  REQUIRE(got.ok());
  return *got;
}

constexpr size_t kTouch = 16ull << 20;

}  // namespace

TEST_CASE("limit walk: a cgroup at its own memory limit is the limit cgroup", "[bpf][limit]") {
  auto h = owtest::hierarchy();
  LimitFixture f;
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-limp");
  auto child = cg::ScopedCgroup::create(h, parent.path(), "owtest-limc", ow::kUnlimited);
  REQUIRE(child.ok());
  Charger c(h, child->path(), kTouch, f.prog_fd());
  REQUIRE(c.ready());
  uint64_t lim = limit_at_usage(h, child->path());
  auto e = f.fire(c);
  CHECK(e.trigger_memcg_id == *h.id_of(child->path()));
  CHECK(e.limit_memcg_id == *h.id_of(child->path()));
  CHECK(e.limit_max_bytes == lim);
  CHECK(e.limit_usage_bytes >= kTouch);
  CHECK(e.limit_usage_bytes <= lim);
  CHECK_FALSE(e.flags & OW_OOM_LIMIT_MEMSW);
}

TEST_CASE("limit walk: an ancestor at its limit is the limit cgroup, not the charging child", "[bpf][limit]") {
  auto h = owtest::hierarchy();
  LimitFixture f;
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-limp");
  auto child = cg::ScopedCgroup::create(h, parent.path(), "owtest-limc", 200ull << 20);  // far from its limit
  REQUIRE(child.ok());
  Charger c(h, child->path(), kTouch, f.prog_fd());
  REQUIRE(c.ready());
  uint64_t lim = limit_at_usage(h, parent.path());
  auto e = f.fire(c);
  CHECK(e.trigger_memcg_id == *h.id_of(child->path()));
  CHECK(e.limit_memcg_id == *h.id_of(parent.path()));
  CHECK(e.limit_max_bytes == lim);
  CHECK(e.limit_usage_bytes >= kTouch);
  CHECK(e.limit_usage_bytes + (512ull << 12) >= lim);
  CHECK_FALSE(e.flags & OW_OOM_LIMIT_MEMSW);
}

TEST_CASE("limit walk: of two cgroups at their limits the nearest one is named", "[bpf][limit]") {
  auto h = owtest::hierarchy();
  LimitFixture f;
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-limp");
  auto child = cg::ScopedCgroup::create(h, parent.path(), "owtest-limc", ow::kUnlimited);
  REQUIRE(child.ok());
  Charger c(h, child->path(), kTouch, f.prog_fd());
  REQUIRE(c.ready());
  limit_at_usage(h, parent.path());
  uint64_t lim = limit_at_usage(h, child->path());
  auto e = f.fire(c);
  CHECK(e.limit_memcg_id == *h.id_of(child->path()));
  CHECK(e.limit_max_bytes == lim);
}

TEST_CASE("limit walk: no cgroup at its limit is a global OOM (limit id 0)", "[bpf][limit]") {
  auto h = owtest::hierarchy();
  LimitFixture f;
  auto parent = owtest::make_cgroup(512ull << 20, "owtest-limp");  // limited, far from it
  auto child = cg::ScopedCgroup::create(h, parent.path(), "owtest-limc", 256ull << 20);
  REQUIRE(child.ok());
  Charger c(h, child->path(), kTouch, f.prog_fd());
  REQUIRE(c.ready());
  auto e = f.fire(c);
  CHECK(e.trigger_memcg_id == *h.id_of(child->path()));
  // (the walk goes on above the test's own cgroup, which is not at a limit either)
  CHECK(e.limit_memcg_id == 0);
  CHECK(e.limit_usage_bytes == 0);
  CHECK(e.limit_max_bytes == 0);
  CHECK_FALSE(e.flags & OW_OOM_LIMIT_MEMSW);
}

TEST_CASE("limit walk: a v1 memory+swap limit is named with OW_OOM_LIMIT_MEMSW", "[bpf][limit]") {
  auto h = owtest::hierarchy();
  if (h.version() != cg::Version::V1) {
    OWTEST_SKIP("memsw is cgroup v1 only");
  }
  LimitFixture f;
  auto parent = owtest::make_cgroup(ow::kUnlimited, "owtest-limp");
  std::string memsw = h.abs(parent.path()) + "/memory.memsw.limit_in_bytes";
  if (!owtest::exists(memsw)) {
    OWTEST_SKIP("no swap accounting (memory.memsw.* missing)");
  }
  auto child = cg::ScopedCgroup::create(h, parent.path(), "owtest-limc", ow::kUnlimited);
  REQUIRE(child.ok());
  Charger c(h, child->path(), kTouch, f.prog_fd());
  REQUIRE(c.ready());
  // memsw.limit may not be below memory.limit: both at the same figure, which
  // the kernel charges (and fails) memsw first for, as the walk checks it.
  uint64_t lim = limit_at_usage(h, parent.path());
  REQUIRE(write_text(memsw, std::to_string(lim)).ok());
  auto e = f.fire(c);
  CHECK(e.limit_memcg_id == *h.id_of(parent.path()));
  CHECK(e.flags & OW_OOM_LIMIT_MEMSW);
  CHECK(e.limit_max_bytes == lim);
  CHECK(e.limit_usage_bytes >= kTouch);
  CHECK(e.limit_usage_bytes <= lim);
}
