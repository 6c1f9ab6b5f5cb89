// Root, real cgroups (v1 here, v2 in the VM tier): rescue that follows real
// growth. A child growing in steps is served grant after grant from an idle
// sibling, a workload that grows twice is rescued twice, and under churn no
// child is killed while the parent has memory. Figures of each grant go to
// stderr (the rescue's latency and sizes, for the record).
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "kube_tree.hpp"
#include "workload.hpp"

using nlohmann::json;
using ow::cg::Hierarchy;
using owtest::Stage;
using owtest::Workload;

namespace {
constexpr uint64_t kMiB = 1 << 20;

struct Agent {
  owtest::TmpTree dir{"owtest-rescue"};
  std::unique_ptr<owtest::Background> bg;
  std::string audit_log() const { return dir.path + "/audit.jsonl"; }
  std::string state() const { return dir.path + "/state"; }
  int port = owtest::free_port();  // its /metrics: how many snapshots it handled
  void start(const std::vector<std::string>& extra, const std::string& db = "none", bool enforce = true) {
    // --cpu-budget 0: the 100 ms interval the cases count snapshots at (the
    // budget stretches it within seconds in a slow VM guest; the rescue
    // under a stretched interval is test_cpu_budget.cpp's).
    std::vector<std::string> argv{owtest::oomwatch_bin(), "run", "--enforce", "--interval", "100ms", "--cpu-budget", "0", "--db", db,
                                  "--audit-log", audit_log(), "--state-dir", state(), "--pin-dir", "none",
                                  "--listen", "127.0.0.1:" + std::to_string(port)};
    if (!enforce) argv.erase(argv.begin() + 2);
    argv.insert(argv.end(), extra.begin(), extra.end());
    bg = owtest::start(argv);
  }
  // Waits until the agent has handled `n` more snapshots (n x 100 ms of its time).
  bool snapshots(uint64_t n) const { return owtest::snapshots_pass(port, n); }
  bool ready() const {
    return owtest::wait_for([&] { return owtest::exists(state() + "/ready") || !owtest::alive(bg->pid); }, 30000) &&
           owtest::alive(bg->pid);
  }
  void stop() {
    if (!bg) return;
    ::kill(bg->pid, SIGTERM);
    owtest::wait_for([&] { return !owtest::alive(bg->pid); }, 10000);
    bg.reset();
  }
  std::vector<json> audit() const { return owtest::json_file_lines(audit_log()); }
  std::string err() const { return bg ? bg->err() : ""; }
};

std::string procs(const Hierarchy& h, const std::string& rel) { return h.abs(rel) + "/cgroup.procs"; }

// Applied grants to receiver, in order.
std::vector<json> grants(const std::vector<json>& audit, const std::string& receiver) {
  std::vector<json> out;
  for (const auto& l : audit)
    if (l["oom_cgroup"] == receiver && l["dry_run"] == false && l["added_memory"].get<uint64_t>() > 0 &&
        l["result"] != "pending" && l["result"] != "rolled_back" && l["result"] != "failed")
      out.push_back(l);
  return out;
}

void print_grants(const char* what, const std::vector<json>& gs, const std::string& donor = "") {
  for (const auto& g : gs) {
    std::fprintf(stderr, "%s: %s %s +%.1f MiB from %s, latency %s us (%s), streak %d", what,
                 g["trigger"].get<std::string>().c_str(), g["result"].get<std::string>().c_str(),
                 g["added_memory"].get<double>() / kMiB, g["source"].get<std::string>().c_str(),
                 g.contains("latency_us") ? std::to_string(g["latency_us"].get<int64_t>()).c_str() : "-",
                 g.value("latency_from", "-").c_str(), g["streak"].get<int>());
    if (!donor.empty() && g["limits_after"].contains(donor))
      std::fprintf(stderr, ", %s limit %.1f MiB", donor.c_str(), g["limits_after"][donor].get<double>() / kMiB);
    std::fprintf(stderr, "\n");
  }
}

}  // namespace

TEST_CASE("rescue follows growth: a child growing in 4 MiB steps is served grant after grant by an idle sibling",
          "[integration][rescue]") {
  // Parent 224 MiB fully reserved by a (64 MiB) and b (160 MiB); b held 64 MiB
  // for 4 s and idles at 8 MiB; a holds 48 MiB for 3 s, then grows in 4 MiB
  // steps, one a second, to 112 MiB.
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(224 * kMiB, "owtest-rescue");
  auto a = owtest::child(h, parent.path(), "a", 64 * kMiB);
  auto b = owtest::child(h, parent.path(), "b", 160 * kMiB);
  Agent ag;
  ag.start({"--manage", parent.path(), "--reservation", "strict", "--donor-min-history", "2s"});
  INFO(ag.err());
  REQUIRE(ag.ready());
  REQUIRE(owtest::armed(h, a.path()));
  // b is seen holding 64 MiB for 15 snapshots, a arrives at 48 MiB, b drops
  // to 8 MiB and is seen idle (donor history: 2 s), then a grows.
  Workload wb(procs(h, b.path()), {{64 * kMiB, 0, owtest::kUntilReleased}, {8 * kMiB, 0, 0}}, false, true);
  REQUIRE(wb.reached(0, 20'000));
  REQUIRE(ag.snapshots(15));
  Workload wa(procs(h, a.path()), {{48 * kMiB, 0, owtest::kUntilReleased}, {112 * kMiB, 1000, 1000}});
  REQUIRE(wa.reached(0, 20'000));
  wb.release();
  REQUIRE(wb.reached(1, 20'000));
  REQUIRE(ag.snapshots(25));
  wa.release();
  REQUIRE(wa.wait(60'000));
  INFO(ag.err());
  CHECK(wa.exited_ok());
  CHECK(wb.running());
  auto ev_a = h.events(a.path()), ev_b = h.events(b.path());
  REQUIRE(ev_a);
  REQUIRE(ev_b);
  CHECK(ev_a->oom_kill == 0);
  CHECK(ev_b->oom_kill == 0);
  uint64_t ub = *h.usage(b.path()), lb = *h.limit(b.path());
  CHECK(lb >= ub + 8 * kMiB);
  CHECK(lb >= 64 * kMiB);  // b's window max: what it was seen to need
  CHECK(*h.limit(a.path()) + lb <= 224 * kMiB);
  auto gs = grants(ag.audit(), a.path());
  print_grants("step growth", gs, b.path());
  std::fprintf(stderr, "step growth: b usage %.1f MiB, limit %.1f MiB at the end\n", double(ub) / kMiB,
               double(lb) / kMiB);
  // v1: each pending OOM is one grant, sized from the rate and doubling. v2
  // (the VM tier, TCG): the guard's pressure events come at the guest's pace,
  // and one grant may cover the whole growth.
  CHECK(gs.size() >= (h.version() == ow::cg::Version::V1 ? 2u : 1u));
  uint64_t lowest_b = 160 * kMiB;
  for (const auto& g : gs) {
    CHECK(g["source"] == "siblings");
    if (g["limits_after"].contains(b.path())) lowest_b = std::min(lowest_b, g["limits_after"][b.path()].get<uint64_t>());
  }
  CHECK(lowest_b >= 64 * kMiB);
}

TEST_CASE("rescue: a workload that grows, holds and grows again within 30 s is rescued both times",
          "[integration][rescue]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-rescue");
  auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
  Agent ag;
  ag.start({"--manage", parent.path()});
  INFO(ag.err());
  REQUIRE(ag.ready());
  REQUIRE(owtest::armed(h, a.path()));
  Workload wa(procs(h, a.path()), {{40 * kMiB, 0, 3000}, {80 * kMiB, 250, 3000}, {200 * kMiB, 250, 500}});
  REQUIRE(wa.wait(60'000));
  CHECK(wa.exited_ok());
  auto gs = grants(ag.audit(), a.path());
  print_grants("two stages", gs);
  REQUIRE(gs.size() >= (h.version() == ow::cg::Version::V1 ? 2u : 1u));
  // Grants in both stages: the second stage starts about 3 s after the first ends.
  CHECK(*h.limit(a.path()) >= 200 * kMiB);
  CHECK(h.events(a.path())->oom_kill == 0);
}

TEST_CASE("rescue under churn: children come and go, allocate from their first instant past their limits, none is killed",
          "[integration][rescue][churn][nosan]") {
  // OWTEST_CHURN_S: how long (default 60 s; the VM tier runs it shorter).
  const char* env = ::getenv("OWTEST_CHURN_S");
  const int churn_s = env && std::atoi(env) > 0 ? std::atoi(env) : 60;
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(4096 * kMiB, "owtest-churn");
  auto keep = owtest::child(h, parent.path(), "keep", 64 * kMiB);  // checked for being put back at the end
  Agent ag;
  ag.start({"--manage", parent.path()});
  INFO(ag.err());
  REQUIRE(ag.ready());
  struct Slot {
    std::unique_ptr<ow::cg::ScopedCgroup> cg;
    std::unique_ptr<Workload> w;
    uint64_t limit0 = 0;
  };
  const uint64_t limits[] = {32 * kMiB, 64 * kMiB, 96 * kMiB, 128 * kMiB};
  std::vector<Slot> slots(4);
  int started = 0, killed = 0, ok = 0, unaudited = 0;
  auto finish = [&](Slot& s) {
    if (s.w->killed()) ++killed;
    if (s.w->exited_ok()) ++ok;
    // Every byte the child got is in the audit.
    uint64_t got = *h.limit(s.cg->path()) - s.limit0, audited = 0;
    for (const auto& g : grants(ag.audit(), s.cg->path())) audited += g["added_memory"].get<uint64_t>();
    if (got != audited) {
      ++unaudited;
      UNSCOPED_INFO(s.cg->path() << ": limit grew " << got << ", audit says " << audited);
    }
    s.w.reset();
    s.cg.reset();
  };
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(churn_s);
  while (std::chrono::steady_clock::now() < until) {
    for (auto& s : slots) {
      if (s.w && s.w->running()) continue;
      if (s.w) finish(s);
      uint64_t limit = limits[started % 4];
      auto c = ow::cg::ScopedCgroup::create(h, parent.path(), "c", limit);
      REQUIRE(c);
      s.cg = std::make_unique<ow::cg::ScopedCgroup>(std::move(*c));
      s.limit0 = limit;
      // As a container runtime does: the workload starts the instant its
      // cgroup exists, nobody waits for the agent. One in three goes past
      // its limit in one go (a pre-touched heap), the others in steps.
      bool shmem = started % 2 == 1;
      uint64_t target = limit + limit / 2 + (started % 3) * 8 * kMiB;
      std::vector<Stage> stages{{limit / 2, 0, 0}, {target, 50, 500}};
      if (started % 3 == 0) stages = {{target, 0, 500}};
      s.w = std::make_unique<Workload>(procs(h, s.cg->path()), stages, shmem);
      ++started;
    }
    ::usleep(50'000);
  }
  for (auto& s : slots)
    if (s.w) {
      s.w->wait(30'000);
      finish(s);
    }
  int granted = 0;
  for (const auto& l : ag.audit())
    if (l["dry_run"] == false && l["added_memory"].get<uint64_t>() > 0 && l["result"] != "pending" &&
        l["result"] != "rolled_back" && l["result"] != "failed")
      ++granted;
  std::fprintf(stderr, "churn: %d s, %d workloads, %d finished, %d killed, %d grants\n", churn_s, started, ok, killed,
               granted);
  CHECK(killed == 0);
  CHECK(ok == started);
  CHECK(unaudited == 0);
  ag.stop();
  auto e = h.events(keep.path());
  REQUIRE(e);
  CHECK_FALSE(e->oom_kill_disable);
  CHECK_FALSE(e->under_oom);
}

TEST_CASE("donors after a restart: the history database still decides who donates", "[integration][rescue]") {
  auto h = owtest::hierarchy();
  owtest::TmpTree dbdir{"owtest-rescue-db"};
  for (bool with_history : {true, false}) {
    INFO((with_history ? "restarted on the same database" : "a fresh database"));
    auto parent = owtest::make_cgroup(224 * kMiB, "owtest-restart");
    auto a = owtest::child(h, parent.path(), "a", 64 * kMiB);
    auto b = owtest::child(h, parent.path(), "b", 160 * kMiB);
    Workload wb(procs(h, b.path()), {{8 * kMiB, 0, 0}}, false, true);
    std::string db = dbdir.path + (with_history ? "/kept.db" : "/fresh.db");
    if (with_history) {
      Agent first;  // observe-only: only the history is recorded
      first.start({"--manage", parent.path(), "--reservation", "strict"}, db, false);
      REQUIRE(first.ready());
      REQUIRE(first.snapshots(60));  // 6 s of history, more than --donor-min-history 5s
      first.stop();
    }
    Agent ag;
    ag.start({"--manage", parent.path(), "--reservation", "strict", "--donor-min-history", "5s"}, db);
    INFO(ag.err());
    REQUIRE(ag.ready());
    REQUIRE(owtest::armed(h, a.path()));
    Workload wa(procs(h, a.path()), {{72 * kMiB, 0, 200}});
    wa.wait(10'000);
    auto gs = grants(ag.audit(), a.path());
    if (with_history) {
      CHECK(wa.exited_ok());
      REQUIRE_FALSE(gs.empty());
      CHECK(gs.front()["source"] == "siblings");
    } else {
      CHECK(gs.empty());
      bool said = false;
      for (const auto& l : ag.audit())
        if (l["reason"].get<std::string>().find("history covers") != std::string::npos) said = true;
      CHECK(said);
    }
    ag.stop();
  }
}

TEST_CASE("an OOM at the parent's limit, children armed from birth: the kernel decides at once, nothing stays paused, "
          "no child is raised",
          "[integration][rescue]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(128 * kMiB, "owtest-plimit");
  Agent ag;
  ag.start({"--manage", parent.path()});
  INFO(ag.err());
  REQUIRE(ag.ready());
  const bool v1 = h.version() == ow::cg::Version::V1;
  // Born after the agent: v1 children inherit the parent's oom_kill_disable.
  auto a = owtest::child(h, parent.path(), "a", 100 * kMiB);
  auto b = owtest::child(h, parent.path(), "b", 100 * kMiB);
  if (v1) {
    CHECK(h.events(parent.path())->oom_kill_disable);
    CHECK(h.events(a.path())->oom_kill_disable);
    CHECK(h.events(b.path())->oom_kill_disable);
  }
  Workload wa(procs(h, a.path()), {{64 * kMiB, 0, 0}}, false, true);
  REQUIRE(wa.reached(0, 20'000));
  REQUIRE(ag.snapshots(5));  // the agent has seen a's 64 MiB
  Workload wb(procs(h, b.path()), {{80 * kMiB, 0, 0}}, false, true);
  // The parent's OOM killer takes one of them.
  REQUIRE(owtest::wait_for([&] { return !wa.running() || !wb.running(); }, 10'000));
  REQUIRE(owtest::wait_for(
      [&] {
        for (const auto& l : ag.audit())
          if (l["result"] == "parent_limit") return true;
        return false;
      },
      5000));
  bool seen = false, released = false;
  for (const auto& l : ag.audit()) {
    INFO(l.dump());
    CHECK(l["added_memory"] == 0);
    if (l["result"] == "parent_limit") {
      seen = true;
      CHECK(l["limit_cgroup"] == parent.path());
      CHECK(l["global"] == false);
    }
    if (l["result"] == "released") {
      released = true;
      CHECK(l["oom_cgroup"] == parent.path());
      CHECK(l["trigger"] == "oom_pending");
    }
  }
  CHECK(seen);
  CHECK(released == v1);  // v1: the parent's own pause was handed to the kernel
  CHECK(*h.limit(a.path()) == 100 * kMiB);
  CHECK(*h.limit(b.path()) == 100 * kMiB);
  CHECK(*h.limit(parent.path()) == 128 * kMiB);
  if (v1) {
    // Room again: the parent is armed again for the next children; nothing paused.
    CHECK(owtest::wait_for([&] { return h.events(parent.path())->oom_kill_disable; }, 5000));
    for (const auto* c : {&parent, &a, &b}) CHECK_FALSE(h.events(c->path())->under_oom);
  }
  ag.stop();
  if (v1)
    for (const auto* c : {&parent, &a, &b}) {
      INFO(c->path());
      CHECK_FALSE(h.events(c->path())->oom_kill_disable);
    }
}

TEST_CASE("a managed child killed anyway: its kill record says what oomwatch tried", "[integration][rescue]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(1024 * kMiB, "owtest-tried");
  auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
  Agent ag;
  std::string cfg = ag.dir.path + "/cfg.toml";
  REQUIRE(ow::write_file_atomic(cfg, "[[cgroup]]\npath = \"" + a.path() + "\"\nceiling = \"80M\"\n").ok());
  ag.start({"--manage", parent.path(), "--config", cfg});
  INFO(ag.err());
  REQUIRE(ag.ready());
  REQUIRE(owtest::armed(h, a.path()));
  // Past its 80 MiB ceiling: grants up to the ceiling, then the kernel kills.
  Workload wa(procs(h, a.path()), {{40 * kMiB, 0, 300}, {160 * kMiB, 100, 0}});
  REQUIRE(wa.wait(60'000));
  CHECK(wa.killed());
  CHECK(*h.limit(a.path()) == 80 * kMiB);
  json kill;
  REQUIRE(owtest::wait_for(
      [&] {
        std::string out = ag.bg->out();  // split_lines returns views into it
        for (auto l : ow::split_lines(out))
          if (!l.empty()) {
            auto j = json::parse(l);
            if (j["type"] == "oom_kill" && j.contains("oomwatch")) {
              kill = j;
              return true;
            }
          }
        return false;
      },
      5000));
  INFO(kill.dump());
  const auto& inc = kill["oomwatch"];
  CHECK(inc["grants"].get<int>() >= 1);
  CHECK(inc["granted_bytes"].get<uint64_t>() == 32 * kMiB);
  CHECK(inc["last_refusal"].get<std::string>().rfind("at_ceiling", 0) == 0);
  CHECK(inc["since_first_signal_us"].get<int64_t>() > 0);
  bool audited = false;
  for (const auto& l : ag.audit())
    if (l["trigger"] == "oom_kill" && l.contains("incident")) audited = l["incident"]["grants"] == inc["grants"];
  CHECK(audited);
}

TEST_CASE("observe-only: every kill of a managed child has a summary, and nothing is counted as granted",
          "[integration][rescue]") {
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(1024 * kMiB, "owtest-dry");
  auto a = owtest::child(h, parent.path(), "a", 32 * kMiB);
  Agent ag;
  ag.start({"--manage", parent.path()}, "none", /*enforce=*/false);
  INFO(ag.err());
  REQUIRE(ag.ready());
  // Two kills in one incident: the first has grown in steps past the limit
  // (pressure samples the agent would have answered), the second right after.
  for (int i = 0; i < 2; ++i) {
    Workload w(procs(h, a.path()), {{24 * kMiB, 0, 300}, {96 * kMiB, 200, 0}});
    REQUIRE(w.wait(60'000));
    CHECK(w.killed());
  }
  std::vector<json> kills;
  REQUIRE(owtest::wait_for(
      [&] {
        kills.clear();
        std::string out = ag.bg->out();
        for (auto l : ow::split_lines(out))
          if (!l.empty())
            if (auto j = json::parse(l); j["type"] == "oom_kill") kills.push_back(j);
        return kills.size() >= 2;
      },
      5000));
  uint32_t would = 0;
  for (const auto& k : kills) {
    INFO(k.dump());
    REQUIRE(k.contains("oomwatch"));  // the first kill of an incident too
    const auto& inc = k["oomwatch"];
    CHECK(inc["triggers"].get<int>() >= 1);
    CHECK(inc["grants"].get<int>() == 0);  // nothing was given: observe-only
    CHECK(inc["granted_bytes"].get<uint64_t>() == 0);
    would = std::max(would, inc["would_grants"].get<uint32_t>());
  }
  // What the audit log says it would have done is what the summary counts.
  uint32_t dry_plans = 0;
  for (const auto& l : ag.audit())
    if (l.value("dry_run", false) && l.value("added_memory", uint64_t{0}) > 0) dry_plans++;
  CHECK(would <= dry_plans);
  CHECK(*h.limit(a.path()) == 32 * kMiB);  // and no limit moved
}

TEST_CASE("rescue of a kubelet-shaped pod: its audit lines carry the pod's kubernetes object",
          "[integration][rescue][k8s]") {
  // <parent>/kubepods/burstable/pod<uid>/<container id> as a kubelet with the
  // cgroupfs driver makes it, the kubelet's log tree in the agent's temp dir,
  // --manage the burstable QoS level: the pod is the managed child, its
  // container grows past the pod's limit.
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-rescuek8s");
  Agent ag;
  owtest::KubePod k(h, parent.path(), ag.dir.path);
  REQUIRE(k.ok);
  REQUIRE(h.set_limit(k.pod, 48 * kMiB).ok());
  std::string cfg = ag.dir.path + "/oomwatch.toml";
  std::ofstream(cfg) << "[recommend]\npods_log_dir = \"" << k.logs << "\"\n";
  ag.start({"--manage", parent.path() + "/kubepods/burstable", "--config", cfg});
  INFO(ag.err());
  REQUIRE(ag.ready());
  REQUIRE(owtest::armed(h, k.pod));
  Workload w(procs(h, k.ctr), {{40 * kMiB, 0, 1000}, {96 * kMiB, 250, 500}});
  REQUIRE(w.wait(60'000));
  CHECK(w.exited_ok());
  CHECK(h.events(k.pod)->oom_kill == 0);
  auto audit = ag.audit();
  auto gs = grants(audit, k.pod);
  print_grants("kubelet-shaped pod", gs);
  REQUIRE(gs.size() >= 1u);
  size_t lines = 0;
  for (const auto& l : audit) {
    if (l["oom_cgroup"] != k.pod) continue;
    ++lines;
    INFO(l.dump());
    REQUIRE(l.contains("kubernetes"));
    CHECK(l["kubernetes"]["namespace"] == "shop");
    CHECK(l["kubernetes"]["pod"] == "web-1");
    CHECK(l["kubernetes"]["container"] == "");  // the pod's own cgroup
    CHECK(l["kubernetes"]["pod_uid"] == owtest::KubePod::kUid);
    CHECK(l["kubernetes"]["container_id"] == "");
    CHECK(l["kubernetes"]["qos"] == "burstable");
  }
  // The pending line before each change and the result line after it.
  CHECK(lines >= 2 * gs.size());
}
