// Root, real cgroups, the real agent: the CPU budget stretches the snapshot
// interval, and a rescue under the stretched interval is served by the
// kernel's signals exactly as under the base interval. The two runs side by
// side in one test: a managed v1 child (or v2 in the VM tier) outgrows its
// limit with an idle sibling beside it, once with no budget (100 ms
// snapshots) and once with a budget so small the interval goes to its
// ceiling. Both must rescue with no OOM kill; each grant's latency from its
// audit line goes to stderr, for the record (no timing assertion).
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "skip.hpp"
#include "workload.hpp"

using nlohmann::json;
using ow::cg::Hierarchy;
using owtest::Workload;

namespace {
constexpr uint64_t kMiB = 1 << 20;

struct BudgetAgent {
  owtest::TmpTree dir{"owtest-budget"};
  std::unique_ptr<owtest::Background> bg;
  int port = owtest::free_port();
  std::string audit_log() const { return dir.path + "/audit.jsonl"; }
  std::string state() const { return dir.path + "/state"; }
  void start(const std::string& parent, const std::string& budget, const std::string& interval = "100ms") {
    bg = owtest::start({owtest::oomwatch_bin(), "run", "--enforce", "--interval", interval, "--cpu-budget", budget,
                        "--db", "none", "--audit-log", audit_log(), "--state-dir", state(), "--pin-dir", "none",
                        "--listen", "127.0.0.1:" + std::to_string(port), "--manage", parent});
  }
  bool ready() const {
    return owtest::wait_for([&] { return owtest::exists(state() + "/ready") || !owtest::alive(bg->pid); }, 30000) &&
           owtest::alive(bg->pid);
  }
  double metric(const std::string& series) const {
    return owtest::metric_value(owtest::http_get(port, "/metrics"), series);
  }
  void stop() {
    if (!bg) return;
    ::kill(bg->pid, SIGTERM);
    owtest::wait_for([&] { return !owtest::alive(bg->pid); }, 10000);
    bg.reset();
  }
  ~BudgetAgent() { stop(); }
  std::string err() const { return bg ? bg->err() : ""; }
};

struct Rescued {
  size_t grants = 0;
  uint64_t kills = 0;
  bool workload_ok = false;
};

// The child grows past its limit while the agent runs; its grants, printed.
Rescued outgrow(const Hierarchy& h, const BudgetAgent& ag, const std::string& child, const char* what) {
  Workload w(h.abs(child) + "/cgroup.procs", {{96 * kMiB, 20, 500}});
  Rescued r;
  r.workload_ok = w.wait(60'000) && w.exited_ok();
  for (const auto& l : owtest::json_file_lines(ag.audit_log())) {
    if (l["oom_cgroup"] != child || l["dry_run"] != false || l["added_memory"].get<uint64_t>() == 0) continue;
    if (l["result"] == "pending" || l["result"] == "rolled_back" || l["result"] == "failed") continue;
    ++r.grants;
    std::fprintf(stderr, "%s: %s %s +%.1f MiB, latency %s us (%s)\n", what, l["trigger"].get<std::string>().c_str(),
                 l["result"].get<std::string>().c_str(), l["added_memory"].get<double>() / kMiB,
                 l.contains("latency_us") ? std::to_string(l["latency_us"].get<int64_t>()).c_str() : "-",
                 l.value("latency_from", "-").c_str());
  }
  r.kills = h.events(child)->oom_kill;
  return r;
}

}  // namespace

TEST_CASE("cpu budget: a rescue under a stretched snapshot interval is served as under the base interval",
          "[integration][rescue][budget]") {
  auto h = owtest::hierarchy();
  Rescued base, stretched;
  {
    auto parent = owtest::make_cgroup(512 * kMiB, "owtest-budget");
    auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
    auto idle = owtest::child(h, parent.path(), "idle", 128 * kMiB);
    BudgetAgent ag;
    ag.start(parent.path(), "0");  // off: 100 ms snapshots throughout
    INFO(ag.err());
    REQUIRE(ag.ready());
    REQUIRE(owtest::armed(h, a.path()));
    CHECK(ag.metric("oomwatch_cpu_budget_ratio") == 0);
    CHECK(ag.metric("oomwatch_snapshot_interval_seconds") == Approx(0.1));
    base = outgrow(h, ag, a.path(), "base interval");
    CHECK(ag.metric("oomwatch_snapshot_interval_seconds") == Approx(0.1));
  }
  {
    auto parent = owtest::make_cgroup(512 * kMiB, "owtest-budget");
    auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
    auto idle = owtest::child(h, parent.path(), "idle", 128 * kMiB);
    BudgetAgent ag;
    // 0.001 % of a core: no walk of the node every 100 ms fits, so the
    // first budget period (30 s) stretches the interval, to its ceiling.
    ag.start(parent.path(), "0.001");
    INFO(ag.err());
    REQUIRE(ag.ready());
    REQUIRE(owtest::armed(h, a.path()));
    CHECK(ag.metric("oomwatch_cpu_budget_ratio") == Approx(0.00001));
    REQUIRE(owtest::wait_for([&] { return ag.metric("oomwatch_snapshot_interval_seconds") > 0.1; }, 90'000));
    CHECK(ag.err().find("snapshot interval 100ms -> ") != std::string::npos);
    CHECK(ag.metric("oomwatch_cpu_used_ratio") > 0.00001);
    double interval = ag.metric("oomwatch_snapshot_interval_seconds");
    std::fprintf(stderr, "stretched to %.1f s\n", interval);
    stretched = outgrow(h, ag, a.path(), "stretched interval");
    // The rescue happened while the interval stayed stretched: no snapshot helped it.
    CHECK(ag.metric("oomwatch_snapshot_interval_seconds") == Approx(interval));
  }
  CHECK(base.workload_ok);
  CHECK(base.grants >= 1);
  CHECK(base.kills == 0);
  CHECK(stretched.workload_ok);
  CHECK(stretched.grants >= 1);
  CHECK(stretched.kills == 0);
}

// A managed child removed while the next snapshot is a minute away (as a
// stretched interval makes it) is let go at once: on v1 the kernel signals
// its OOM eventfd as the cgroup goes, so its fds and journal entry do not
// wait for the walk. The snapshot a minute later would be too late for the
// wait below.
TEST_CASE("cpu budget: a removed managed child is let go before the next snapshot", "[integration][rescue][budget]") {
  auto h = owtest::hierarchy();
  if (h.version() != ow::cg::Version::V1) OWTEST_SKIP("v1: the OOM eventfd is signalled as its cgroup is removed");
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-budget-gone");
  auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
  BudgetAgent ag;
  ag.start(parent.path(), "0", "60s");
  INFO(ag.err());
  REQUIRE(ag.ready());
  REQUIRE(owtest::armed(h, a.path()));
  const std::string gone = a.path();
  REQUIRE(a.remove().ok());
  CHECK(owtest::wait_for([&] { return ag.err().find(gone + " is gone") != std::string::npos; }, 20'000));
  CHECK(ag.metric("oomwatch_snapshot_interval_seconds") == Approx(60));
}
