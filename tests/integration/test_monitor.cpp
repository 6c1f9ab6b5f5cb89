// Root, real cgroups: monitor's figures are the cgroup's own (read here
// independently through the Hierarchy), unlimited shows as "max", and it ends
// cleanly on --duration, Ctrl-C, or when the cgroup goes away.
#include <catch2/catch.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "stress/worker.hpp"
#include "util/fs.hpp"

using nlohmann::json;
using namespace ow;

namespace {
constexpr uint64_t kMiB = 1 << 20;

std::vector<json> json_lines(const std::string& s) {
  std::vector<json> out;
  for (auto l : split_lines(s))
    if (!l.empty()) out.push_back(json::parse(l));
  return out;
}

// Runs the engine's worker in the cgroup; true once it holds everything.
bool hold(stress::Worker& w) {
  for (int i = 0; i < 200; ++i) {
    pollfd p{w.report_fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    std::vector<stress::WorkerMsg> msgs;
    bool open = w.read_reports(msgs);
    for (const auto& m : msgs)
      if (m.kind == stress::MsgKind::Grown) return true;
    if (!open) return false;
  }
  return false;
}

stress::WorkerSpec anon(uint64_t bytes) {
  stress::WorkerSpec s;
  s.total_bytes = bytes;
  return s;
}
}  // namespace

TEST_CASE("monitor's figures agree with the cgroup's own files", "[integration][monitor]") {
  auto cg = owtest::make_cgroup(64 * kMiB, "owtest-mon");
  auto h = owtest::hierarchy();
  {  // One OOM kill first, so the counters are not all zero.
    auto hog = stress::Worker::spawn(h, cg.path(), anon(128 * kMiB));
    REQUIRE(hog.ok());
    REQUIRE_FALSE(hold(*hog));  // on failure the Worker's destructor kills the holder
    CHECK(hog->reap().signal == SIGKILL);
  }
  auto w = stress::Worker::spawn(h, cg.path(), anon(24 * kMiB));
  REQUIRE(w.ok());
  REQUIRE(hold(*w));

  // Usage may still be settling from the kill (the victim's last pages and
  // per-CPU charge caches are freed asynchronously), so the cgroup's own
  // reading is taken on both sides of the run and each sample must lie
  // within that bracket.
  auto before = h.read(cg.path());
  REQUIRE(before.ok());
  auto r = owtest::run({owtest::oomwatch_bin(), "monitor", "--cgroup", cg.path(), "--json", "--duration", "600ms",
                        "--interval", "200ms"});
  auto truth = h.read(cg.path());
  REQUIRE(truth.ok());
  const uint64_t usage_lo = std::min(before->usage_bytes, truth->usage_bytes);
  const uint64_t usage_hi = std::max(before->usage_bytes, truth->usage_bytes);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = json_lines(r.out);
  CHECK(lines.size() == 4);  // t = 0, 200, 400, 600 ms
  for (const auto& j : lines) {
    INFO(j.dump());
    CHECK(j["type"] == "sample");
    CHECK(j["cgroup"] == cg.path());
    CHECK(j["version"] == cg::version_name(h.version()));
    CHECK(j["limit_bytes"] == truth->limit_bytes);
    CHECK(j["limit_bytes"] == 64 * kMiB);
    CHECK(j["limit"] == "64MiB");
    auto usage = j["usage_bytes"].get<uint64_t>();
    CHECK(usage + kMiB >= usage_lo);
    CHECK(usage <= usage_hi + kMiB);
    CHECK(usage >= 24 * kMiB);
    CHECK(j["percent"].get<double>() == Approx(100.0 * usage / (64.0 * kMiB)).margin(0.06));
    CHECK(j["peak_bytes"] == truth->peak_bytes);
    CHECK(j["peak_bytes"].get<uint64_t>() >= 60 * kMiB);  // the hog reached the limit
    CHECK(j["events"]["max"] == truth->events.max);
    CHECK(j["events"]["max"].get<uint64_t>() > 0);
    CHECK(j["events"]["oom_kill"] == truth->events.oom_kill);
    CHECK(j["events"]["oom_kill"] == 1);
    if (h.version() == cg::Version::V2) CHECK(j["events"]["oom"] == truth->events.oom);
  }
  // The raw file, not only the Hierarchy's reading of it.
  auto raw = read_text(h.abs(cg.path()) + "/" + h.limit_file());
  REQUIRE(raw.ok());
  CHECK(std::string(trim(*raw)) == std::to_string(64 * kMiB));

  auto text = owtest::run({owtest::oomwatch_bin(), "monitor", "--cgroup", cg.path(), "--duration", "10ms"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("/ 64MiB (") != std::string::npos);
  CHECK(text.out.find("oom_kill 1") != std::string::npos);
}

TEST_CASE("monitor shows an unlimited cgroup as max, never a huge number", "[integration][monitor]") {
  auto cg = owtest::make_cgroup(kUnlimited, "owtest-mon");
  auto j = owtest::run({owtest::oomwatch_bin(), "monitor", "--cgroup", cg.path(), "--json", "--duration", "10ms"});
  REQUIRE(j.exit_code == 0);
  auto lines = json_lines(j.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["limit_bytes"].is_null());
  CHECK(lines[0]["limit"] == "max");
  CHECK(lines[0]["percent"].is_null());
  auto t = owtest::run({owtest::oomwatch_bin(), "monitor", "--cgroup", cg.path(), "--duration", "10ms"});
  CHECK(t.out.find("/ max") != std::string::npos);
  for (const auto& out : {j.out, t.out}) {
    CHECK(out.find("9223372036854771712") == std::string::npos);  // v1's "no limit"
    CHECK(out.find("18446744073709551615") == std::string::npos);
  }
}

TEST_CASE("monitor ends on Ctrl-C (0), unknown cgroup (2), vanished cgroup (1)", "[integration][monitor]") {
  CHECK(owtest::run({owtest::oomwatch_bin(), "monitor", "--cgroup", "/no/such/cgroup"}).exit_code == 2);

  auto cg = owtest::make_cgroup(32 * kMiB, "owtest-mon");
  auto b = owtest::start({owtest::oomwatch_bin(), "monitor", "--cgroup", cg.path(), "--interval", "50ms"});
  REQUIRE(owtest::wait_for([&] { return split_lines(b->out()).size() >= 2; }, 5000));
  ::kill(b->pid, SIGINT);
  int status = 0;
  REQUIRE(owtest::wait_for([&] { return ::waitpid(b->pid, &status, WNOHANG) == b->pid; }, 10000));
  b->pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  auto gone = owtest::start({owtest::oomwatch_bin(), "monitor", "--cgroup", cg.path(), "--interval", "50ms"});
  REQUIRE(owtest::wait_for([&] { return !gone->out().empty(); }, 5000));
  REQUIRE(cg.remove().ok());
  REQUIRE(owtest::wait_for([&] { return ::waitpid(gone->pid, &status, WNOHANG) == gone->pid; }, 10000));
  gone->pid = -1;
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(gone->err().find("can no longer be read") != std::string::npos);
}
