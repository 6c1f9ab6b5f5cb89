// Root: the Go GC experiment (tools/go/cmd/gcexp, chunked mode) at a
// 64 MiB cgroup is OOM-killed without a hint, and survives with
// GOMEMLIMIT=$(oomwatch gomemlimit ...) and with -apply-hint after --publish.
// gcexp: $OOMWATCH_GCEXP, else gcexp next to the oomwatch binary
// (tools/go/build.sh <build dir>).
//
// Outcomes are counted over a few runs: on this host they are the same every
// time (the first run decides), but under qemu TCG (the VM tier) the GC's
// timing varies: 6.1 guests killed 10/10 without a hint and 1-2/12 with
// one (also at 56 MB). So: without a hint at least one kill in 3 runs; with
// one a survival majority in up to 5 runs.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cgroup/scoped.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

namespace {
constexpr uint64_t k64M = 64ull << 20;

std::string gcexp_bin() {
  std::string p;
  if (const char* e = std::getenv("OOMWATCH_GCEXP")) p = e;
  else {
    std::string bin = owtest::oomwatch_bin();
    p = bin.substr(0, bin.rfind('/') + 1) + "gcexp";
  }
  if (::access(p.c_str(), X_OK) != 0)
    FAIL("no Go experiment binary at " << p << ": build it with tools/go/build.sh <build dir> (or set OOMWATCH_GCEXP)");
  return p;
}

std::string sh_quote(const std::string& s) { return "'" + s + "'"; }

struct Tally {
  int runs = 0, kills = 0, survived = 0;
  std::string last_out;  // of the last run, for the failure message
};

// Runs `once` (returns exit code, fills out) until `done` says so or 5 runs.
template <typename F, typename D>
Tally tally(F once, D done) {
  Tally t;
  while (t.runs < 5 && !done(t)) {
    std::string out;
    int rc = once(out);
    ++t.runs;
    t.kills += rc == 137;
    t.survived += rc == 0 && out.find("survived") != std::string::npos;
    t.last_out = out;
  }
  return t;
}
bool one_kill(const Tally& t) { return t.kills >= 1 || t.runs >= 3; }
bool three_survive(const Tally& t) { return t.survived >= 3 || t.runs - t.survived >= 3; }
}  // namespace

TEST_CASE("gcexp chunked at 64 MiB: killed without a hint, alive with GOMEMLIMIT=$(oomwatch gomemlimit)",
          "[integration][gomemlimit][gcexp]") {
  std::string gcexp = gcexp_bin(), bin = owtest::oomwatch_bin();
  auto bare = tally(
      [&](std::string& out) {
        auto r = owtest::run({bin, "exec", "--memory", "64M", "--", gcexp, "-limit", "64MiB", "-mode", "chunked"});
        out = r.out + r.err;
        return r.exit_code;
      },
      one_kill);
  INFO(bare.last_out);
  CHECK(bare.kills >= 1);

  auto cg = owtest::make_cgroup(k64M, "owtest-gml-64m");
  auto v = owtest::run({bin, "gomemlimit", "--cgroup", cg.path()});
  REQUIRE(v.exit_code == 0);
  uint64_t hint = 0;
  REQUIRE(ow::parse_u64(ow::trim(v.out), hint));
  // Measured here: 45..60 MiB survive, 40 MiB is below the 44.8 MiB live set.
  CHECK(hint > (44ull << 20));
  CHECK(hint < k64M);
  // The operator's one-liner, literally.
  std::string script = "GOMEMLIMIT=$(" + sh_quote(bin) + " gomemlimit --cgroup " + sh_quote(cg.path()) +
                       ") && export GOMEMLIMIT && exec " + sh_quote(bin) + " exec --memory 64M -- " + sh_quote(gcexp) +
                       " -limit 64MiB -mode chunked";
  auto with = tally(
      [&](std::string& out) {
        auto r = owtest::run({"sh", "-c", script});
        out = r.out + r.err;
        CHECK(r.out.find("runtime memory limit=" + std::to_string(hint)) != std::string::npos);
        return r.exit_code;
      },
      three_survive);
  INFO(with.last_out);
  WARN("64 MiB cgroup: hint " << hint << " B; without it " << bare.kills << "/" << bare.runs << " killed, with it "
                              << with.survived << "/" << with.runs << " survived");
  CHECK(with.survived >= 3);
}

TEST_CASE("gcexp -apply-hint survives at 64 MiB after gomemlimit --publish", "[integration][gomemlimit][gcexp]") {
  std::string gcexp = gcexp_bin(), bin = owtest::oomwatch_bin();
  auto h = owtest::hierarchy();
  auto cg = owtest::make_cgroup(k64M, "owtest-gml-apply");
  // Test-local file and pin: the xattr on the test cgroup is what gcexp reads.
  std::string tag = std::to_string(::getpid());
  std::string hint_dir = "/run/owtest-gml-" + tag, pin = "/sys/fs/bpf/owtest-gml-" + tag + "/gomemlimit";
  std::vector<std::string> where{"--hint-dir", hint_dir, "--pin", pin};
  struct Cleanup {
    std::vector<std::string> argv;
    std::string dir;
    ~Cleanup() {
      owtest::run(argv);
      ::rmdir(dir.c_str());
    }
  } cleanup{{bin, "gomemlimit", "--cgroup", cg.path(), "--unpublish", "--hint-dir", hint_dir, "--pin", pin}, hint_dir};

  std::vector<std::string> pub{bin, "gomemlimit", "--cgroup", cg.path(), "--publish"};
  pub.insert(pub.end(), where.begin(), where.end());
  auto p = owtest::run(pub);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  std::string hint(ow::trim(p.out));

  std::string out = "/tmp/owtest-gcexp-" + tag + ".out";
  auto t = tally(
      [&](std::string& text) {
        auto pid = ow::cg::spawn_in(
            h, cg.path(),
            {"sh", "-c", "exec " + sh_quote(gcexp) + " -apply-hint -limit 64MiB -mode chunked > " + out + " 2>&1"});
        REQUIRE(pid.ok());
        auto st = ow::cg::wait_child(*pid);
        text = ow::read_text(out).value_or("");
        ::unlink(out.c_str());
        CHECK(text.find("apply-hint: memory limit set to " + hint + " bytes") != std::string::npos);
        return st.exit_code;
      },
      three_survive);
  INFO(t.last_out);
  WARN("-apply-hint " << hint << " B: " << t.survived << "/" << t.runs << " survived");
  CHECK(t.survived >= 3);
}
