// The daemon's GOMEMLIMIT hint service (hintsvc/service.hpp) on a fake cgroup v1
// tree in a temp dir, without root: which cgroups get a hint, the values,
// refresh / lower_before, withdrawal, the period, the hint log line (its
// pure parts: test_gomemlimit_env, _tree, _figures). The pinned map needs root and bpffs (integration tier):
// here hints go to the xattr and the file only.
#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "hintsvc/service.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

using namespace ow;
using ow::hintsvc::HintOptions;
using ow::hintsvc::HintService;

namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr int64_t kSec = 1'000'000'000;

struct FakeTree {
  std::string root;
  FakeTree() {
    char tmpl[] = "/tmp/owtest-hintsvc-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~FakeTree() { (void)!std::system(("rm -rf " + root).c_str()); }
  void file(const std::string& rel, const std::string& text) {
    std::string p = root + rel;
    REQUIRE(mkdir_p(p.substr(0, p.rfind('/'))).ok());
    FILE* f = std::fopen(p.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  // A v1 memory cgroup (path under the fake mount <root>/cg): limit, usage,
  // memory.stat, and kmem when given.
  void cgroup(const std::string& rel, uint64_t limit, uint64_t shmem = 0, std::optional<uint64_t> kmem = {}) {
    std::string d = "/cg" + (rel == "/" ? std::string() : rel);
    file(d + "/memory.limit_in_bytes",
         std::to_string(limit == kUnlimited ? 9223372036854771712ull : limit) + "\n");
    file(d + "/memory.usage_in_bytes", std::to_string(20 * MiB) + "\n");
    file(d + "/memory.stat", "cache 0\nrss 0\ntotal_cache " + std::to_string(shmem) + "\ntotal_shmem " +
                                 std::to_string(shmem) + "\ntotal_dirty 0\ntotal_writeback 0\n");
    if (kmem) file(d + "/memory.kmem.usage_in_bytes", std::to_string(*kmem) + "\n");
  }
  void set_limit(const std::string& rel, uint64_t limit) {
    file("/cg" + rel + "/memory.limit_in_bytes",
         std::to_string(limit == kUnlimited ? 9223372036854771712ull : limit) + "\n");
  }
  void rmcg(const std::string& rel) { (void)!std::system(("rm -rf " + root + "/cg" + rel).c_str()); }
  cg::Hierarchy h() const { return cg::Hierarchy(root + "/cg", cg::Version::V1, "/"); }
  uint64_t id(const std::string& rel) const {
    struct stat st;
    REQUIRE(::stat((root + "/cg" + (rel == "/" ? "" : rel)).c_str(), &st) == 0);
    return st.st_ino;
  }
};

// (limit − non-heap − floor(5 % of limit)) × 0.8, floored: the calculator's
// default arithmetic written out, so a change to it shows up here.
uint64_t expect_hint(uint64_t limit, uint64_t nonheap) {
  uint64_t margin = limit / 20;  // exact for the multiples of 1 MiB used here, floor otherwise
  long double avail = static_cast<long double>(limit) - nonheap - margin;
  return static_cast<uint64_t>(avail * 8 / 10);
}

struct Fixture {
  FakeTree t;
  HintOptions o;
  std::string hint_dir;
  Fixture() {
    // machine: 1 GiB; /a 64M (1M kmem), /a/b no limit (inherits /a's),
    // /c no limit anywhere, /d 1M filled with 1M of shmem (no room for a hint)
    t.file("/meminfo", "MemTotal:        1048576 kB\nMemFree: 1 kB\n");
    t.cgroup("/", kUnlimited);
    t.cgroup("/a", 64 * MiB, 0, 1 * MiB);
    t.cgroup("/a/b", kUnlimited);
    t.cgroup("/c", kUnlimited);
    t.cgroup("/d", 1 * MiB, 1 * MiB);
    hint_dir = t.root + "/run/gomemlimit";
    o.publish.hint_dir = hint_dir;
    o.publish.xattr_name = "user.owtest.gomemlimit";
    o.publish.pin_path = t.root + "/notbpffs/gomemlimit";  // no map here: xattr and file only
    o.measure_ebpf = false;
    o.meminfo_path = t.root + "/meminfo";
  }
  std::string file_value(const std::string& rel) {
    auto v = read_text(hint_dir + "/" + std::to_string(t.id(rel)));
    return v ? std::string(trim(*v)) : "";
  }
  bool has_file(const std::string& rel) {
    struct stat st;
    return ::stat((hint_dir + "/" + std::to_string(t.id(rel))).c_str(), &st) == 0;
  }
  // "" when absent; "unsupported" when the temp fs has no user xattrs.
  std::string xattr(const std::string& rel) {
    char buf[64];
    std::string dir = t.root + "/cg" + rel;
    ssize_t n = ::getxattr(dir.c_str(), o.publish.xattr_name.c_str(), buf, sizeof buf);
    if (n < 0) return errno == ENOTSUP ? "unsupported" : "";
    return std::string(buf, static_cast<size_t>(n));
  }
};

}  // namespace

TEST_CASE("hint service: targets are the cgroups with a limit below machine memory", "[unit][hints]") {
  Fixture f;
  auto s = HintService::open(f.t.h(), f.o);
  REQUIRE(s.ok());
  REQUIRE((*s)->tick(0));
  const auto& r = (*s)->last_tick();
  CHECK(r.walked == 5);
  CHECK(r.targets == 3);  // /a, /a/b, /d
  CHECK(r.published == 2);
  CHECK(r.rewritten == 2);
  CHECK(r.no_hint == 1);  // /d
  CHECK(r.failed == 0);
  CHECK_FALSE(r.ebpf_measured);
  CHECK(f.file_value("/a") == std::to_string(expect_hint(64 * MiB, 1 * MiB)));
  CHECK(f.file_value("/a") == "50163876");
  CHECK(f.file_value("/a/b") == std::to_string(expect_hint(64 * MiB, 0)));
  CHECK_FALSE(f.has_file("/c"));
  CHECK_FALSE(f.has_file("/d"));
  CHECK_FALSE(f.has_file("/"));
  std::string x = f.xattr("/a");
  if (x != "unsupported") CHECK(x == "50163876");
  CHECK((*s)->published_value("/a") == 50163876u);
  CHECK((*s)->published().at(f.t.id("/a/b")).breakdown.limit_cgroup == "/a");
  CHECK_FALSE((*s)->published_value("/c"));

  // include_unlimited: /c and the root get the machine-memory hint too.
  Fixture g;
  g.o.include_unlimited = true;
  auto u = HintService::open(g.t.h(), g.o);
  REQUIRE(u.ok());
  REQUIRE((*u)->tick(0));
  CHECK((*u)->last_tick().targets == 5);
  CHECK(g.file_value("/c") == std::to_string(expect_hint(1024 * MiB, 0)));
  REQUIRE((*u)->shutdown().ok());
  REQUIRE((*s)->shutdown().ok());
}

TEST_CASE("hint service: roots select subtrees; nested and missing roots", "[unit][hints]") {
  Fixture f;
  f.o.roots = {"/a/b", "/a/", "/later"};
  auto s = HintService::open(f.t.h(), f.o);
  REQUIRE(s.ok());
  CHECK((*s)->options().roots == std::vector<std::string>{"/a", "/later"});
  REQUIRE((*s)->tick(0));
  CHECK((*s)->last_tick().walked == 2);
  CHECK((*s)->last_tick().published == 2);
  CHECK_FALSE(f.has_file("/d"));
  // a root created later is picked up
  f.t.cgroup("/later", 32 * MiB);
  REQUIRE((*s)->tick(0, true));
  CHECK((*s)->last_tick().walked == 3);
  CHECK(f.file_value("/later") == std::to_string(expect_hint(32 * MiB, 0)));
  CHECK((*s)->covers("/a/b"));
  CHECK_FALSE((*s)->covers("/d"));
  CHECK_FALSE((*s)->covers("/nonexistent"));
  // refresh outside the roots is refused and publishes nothing
  CHECK_FALSE((*s)->refresh("/d").ok());
  CHECK_FALSE((*s)->refresh("/nonexistent").ok());
  CHECK_FALSE(f.has_file("/d"));
  REQUIRE((*s)->shutdown().ok());

  f.o.roots = {"relative"};
  CHECK_FALSE(HintService::open(f.t.h(), f.o).ok());
  f.o.roots = {};
  f.o.params.ratio = 1.5;
  CHECK_FALSE(HintService::open(f.t.h(), f.o).ok());
}

TEST_CASE("hint service: period, refresh, lower_before, withdrawal, shutdown", "[unit][hints]") {
  Fixture f;
  auto so = HintService::open(f.t.h(), f.o);
  REQUIRE(so.ok());
  auto& s = **so;
  REQUIRE(s.tick(100 * kSec));
  CHECK_FALSE(s.tick(100 * kSec + f.o.period_ns - 1));
  CHECK(s.tick(100 * kSec + f.o.period_ns));
  CHECK(s.last_tick().published == 2);
  CHECK(s.last_tick().rewritten == 0);  // unchanged values
  CHECK(s.tick(100 * kSec + f.o.period_ns + 1, true));
  CHECK(s.last_tick().rewritten == 0);
  // Someone removes a hint file: it is back at the periodic rewrite.
  REQUIRE(::unlink((f.hint_dir + "/" + std::to_string(f.t.id("/a"))).c_str()) == 0);
  CHECK(s.tick(100 * kSec + f.o.republish_period_ns - 1, true));
  CHECK(s.last_tick().rewritten == 0);
  CHECK_FALSE(f.has_file("/a"));
  CHECK(s.tick(100 * kSec + f.o.republish_period_ns, true));
  CHECK(s.last_tick().rewritten == 2);
  CHECK(f.file_value("/a") == "50163876");

  // The limit changes; refresh publishes at once (the child waits for the tick).
  f.t.set_limit("/a", 128 * MiB);
  auto v = s.refresh("/a");
  REQUIRE(v.ok());
  CHECK(*v == expect_hint(128 * MiB, 1 * MiB));
  CHECK(f.file_value("/a") == std::to_string(*v));
  CHECK(f.file_value("/a/b") == std::to_string(expect_hint(64 * MiB, 0)));
  CHECK(s.refresh(f.t.root + "/cg/a").ok());  // absolute paths as users type them

  // Lowering to 32M: the hint moves first, the limit file is untouched.
  auto low = s.lower_before("/a", 32 * MiB);
  REQUIRE(low.ok());
  CHECK(*low == expect_hint(32 * MiB, 1 * MiB));
  CHECK(*low == 24662508u);
  CHECK(f.file_value("/a") == "24662508");
  CHECK(read_text(f.t.root + "/cg/a/memory.limit_in_bytes").value() == std::to_string(128 * MiB) + "\n");
  // "Lowering" above the current limit changes nothing: the current limit counts.
  auto same = s.lower_before("/a", 512 * MiB);
  REQUIRE(same.ok());
  CHECK(*same == expect_hint(128 * MiB, 1 * MiB));
  // No room at the new limit: refused, the current hint stays.
  auto none = s.lower_before("/a", 1 * MiB);
  CHECK_FALSE(none.ok());
  CHECK(f.file_value("/a") == std::to_string(*same));

  // A limit that leaves no room withdraws the hint at refresh.
  f.t.set_limit("/a", 1 * MiB);
  CHECK_FALSE(s.refresh("/a").ok());
  CHECK_FALSE(f.has_file("/a"));
  f.t.set_limit("/a", 64 * MiB);
  REQUIRE(s.refresh("/a").ok());

  // A removed cgroup and one that lost its limit lose their hints at the next tick.
  uint64_t bid = f.t.id("/a/b");
  std::string bfile = f.hint_dir + "/" + std::to_string(bid);
  f.t.rmcg("/a/b");
  REQUIRE(s.tick(0, true));
  CHECK(s.last_tick().withdrawn == 1);
  CHECK(::access(bfile.c_str(), F_OK) != 0);
  CHECK(s.published().count(bid) == 0);
  f.t.set_limit("/a", kUnlimited);
  REQUIRE(s.tick(0, true));
  CHECK(s.last_tick().targets == 1);  // /d only, which has no hint
  CHECK(s.last_tick().withdrawn == 1);
  CHECK_FALSE(f.has_file("/a"));
  CHECK(f.xattr("/a") != "50163876");

  f.t.set_limit("/a", 64 * MiB);
  REQUIRE(s.tick(0, true));
  CHECK(f.has_file("/a"));
  REQUIRE(s.shutdown().ok());
  CHECK_FALSE(f.has_file("/a"));
  std::string x = f.xattr("/a");
  CHECK((x.empty() || x == "unsupported"));
  CHECK_FALSE(s.tick(0, true));
  CHECK_FALSE(s.refresh("/a").ok());
  CHECK_FALSE(f.has_file("/a"));
}

TEST_CASE("hint service logs the hint line for its own cgroup and each hinted one", "[unit][hints]") {
  Fixture f;
  f.o.log_lines_max = 1;
  auto so = HintService::open(f.t.h(), f.o);
  REQUIRE(so.ok());
  auto& s = **so;
  REQUIRE(s.tick(0));

  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("hints-test", sink);
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::debug);
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  const char* env = std::getenv("GOMEMLIMIT");
  std::string saved_env = env ? env : "";
  ::setenv("GOMEMLIMIT", "384MiB", 1);
  bool logged = s.maybe_log(7 * kSec);
  bool again = s.maybe_log(7 * kSec + f.o.log_period_ns - 1);
  bool later = s.maybe_log(7 * kSec + f.o.log_period_ns);
  if (env) ::setenv("GOMEMLIMIT", saved_env.c_str(), 1);
  else ::unsetenv("GOMEMLIMIT");
  spdlog::set_default_logger(saved);
  CHECK(logged);
  CHECK_FALSE(again);
  CHECK(later);
  std::string text = out.str();
  INFO(text);
  // own cgroup ("/" of the fake tree): unlimited, so the machine's 1 GiB
  CHECK(text.find("info memory usage stats: cgroup=/ totalUsage=20MiB totalLimit=1GiB ebpfUsage=0B "
                  "currentGOMEMLIMIT=384MiB recommendedGOMEMLIMIT=") != std::string::npos);
  // one hinted cgroup at info, the other at debug, and the summary lines
  CHECK(text.find("info memory usage stats: cgroup=/a totalUsage=20MiB totalLimit=64MiB ebpfUsage=0B "
                  "currentGOMEMLIMIT=n/a recommendedGOMEMLIMIT=" + format_size(50163876) +
                  " utilizationPercent=31") != std::string::npos);
  CHECK(text.find("debug memory usage stats: cgroup=/a/b ") != std::string::npos);
  CHECK(text.find("1 more hinted cgroups") != std::string::npos);
  CHECK(text.find("1 cgroups have no positive GOMEMLIMIT hint") != std::string::npos);
  REQUIRE(s.shutdown().ok());
}
