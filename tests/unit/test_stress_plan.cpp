// Pure bookkeeping of the stress engine: step plans, shares, worker tallies,
// the OOM verdict and the worker report records.
#include <catch2/catch.hpp>
#include <signal.h>

#include <cstring>

#include "stress/outcome.hpp"
#include "stress/plan.hpp"
#include "stress/stress_tally.hpp"
#include "stress/wire.hpp"

using namespace ow::stress;

namespace {
constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = 1 << 20;

struct Totals {
  uint64_t by_kind[3] = {0, 0, 0};
  uint64_t steps = 0, max_step = 0;
};
Totals drain(StepPlan p) {
  Totals t;
  while (auto s = p.next()) {
    REQUIRE(s->bytes > 0);
    REQUIRE(s->bytes % kPage == 0);
    t.by_kind[static_cast<int>(s->kind)] += s->bytes;
    t.max_step = std::max(t.max_step, s->bytes);
    ++t.steps;
  }
  return t;
}
}  // namespace

TEST_CASE("a single-kind plan covers the total in whole steps", "[stress][plan]") {
  auto t = drain(StepPlan(Strategy::Anon, 48 * kMiB, 4 * kMiB, kPage));
  CHECK(t.by_kind[0] == 48 * kMiB);
  CHECK(t.by_kind[1] == 0);
  CHECK(t.by_kind[2] == 0);
  CHECK(t.steps == 12);
  CHECK(t.max_step == 4 * kMiB);

  auto f = drain(StepPlan(Strategy::File, 10 * kMiB, 4 * kMiB, kPage));
  CHECK(f.by_kind[1] == 10 * kMiB);
  CHECK(f.steps == 3);  // 4 + 4 + 2
}

TEST_CASE("plans round the total up and the step down to whole pages", "[stress][plan]") {
  StepPlan p(Strategy::Shmem, 10000, 5000, kPage);
  CHECK(p.total_bytes() == 3 * kPage);
  CHECK(p.step_bytes() == kPage);
  auto t = drain(p);
  CHECK(t.by_kind[2] == 3 * kPage);
  CHECK(t.steps == 3);
  // A step below a page still makes progress one page at a time.
  CHECK(StepPlan(Strategy::Anon, kPage, 1, kPage).step_bytes() == kPage);
}

TEST_CASE("mixed gives each kind a third and grows them together", "[stress][plan]") {
  StepPlan p(Strategy::Mixed, 48 * kMiB, 4 * kMiB, kPage);
  CHECK(p.planned_bytes(Kind::Anon) == 16 * kMiB);
  CHECK(p.planned_bytes(Kind::File) == 16 * kMiB);
  CHECK(p.planned_bytes(Kind::Shmem) == 16 * kMiB);
  auto a = p.next(), b = p.next(), c = p.next(), d = p.next();
  REQUIRE((a && b && c && d));
  CHECK(a->kind == Kind::Anon);
  CHECK(b->kind == Kind::File);
  CHECK(c->kind == Kind::Shmem);
  CHECK(d->kind == Kind::Anon);

  // Remainder pages go to anon, then file; nothing is lost.
  StepPlan odd(Strategy::Mixed, 5 * kPage, kMiB, kPage);
  CHECK(odd.planned_bytes(Kind::Anon) == 2 * kPage);
  CHECK(odd.planned_bytes(Kind::File) == 2 * kPage);
  CHECK(odd.planned_bytes(Kind::Shmem) == kPage);
  auto t = drain(odd);
  CHECK(t.by_kind[0] + t.by_kind[1] + t.by_kind[2] == 5 * kPage);
}

TEST_CASE("worker shares cover the target", "[stress][plan]") {
  CHECK(worker_share(64 * kMiB, 2, kPage) == 32 * kMiB);
  CHECK(worker_share(10 * kPage, 3, kPage) == 4 * kPage);  // rounded up: 3 x 4 >= 10
  CHECK(worker_share(kMiB, 0, kPage) == 0);
}

TEST_CASE("an OOM kill needs both SIGKILL and the cgroup counter", "[stress][outcome]") {
  ow::cg::ExitStatus killed{128 + SIGKILL, true, SIGKILL};
  ow::cg::ExitStatus clean{0, false, 0};
  auto o = classify(killed, 3, 4);
  CHECK(o.oom_killed);
  CHECK(o.oom_kills == 1);
  CHECK(o.exit_code == 137);
  // kill -9 from someone else: no OOM.
  CHECK_FALSE(classify(killed, 3, 3).oom_killed);
  // Another task of a shared cgroup was the victim: counted, but not ours.
  auto other = classify(clean, 0, 2);
  CHECK_FALSE(other.oom_killed);
  CHECK(other.oom_kills == 2);
  // SIGTERM is not how the OOM killer kills.
  CHECK_FALSE(classify({128 + SIGTERM, true, SIGTERM}, 0, 1).oom_killed);
  // A counter that went backwards (cgroup recreated) is no evidence.
  CHECK(classify(killed, 5, 1).oom_kills == 0);
}

TEST_CASE("stress tally restarts killed workers and gives up on failing ones", "[stress][tally]") {
  StressTally t;
  ow::cg::ExitStatus killed{137, true, SIGKILL};
  ow::cg::ExitStatus failed{1, false, 0};
  for (int i = 0; i < 10; ++i) CHECK(t.on_worker_end(killed) == StressTally::Next::Restart);
  CHECK(t.worker_kills() == 10);
  CHECK(t.on_worker_end(failed) == StressTally::Next::Restart);
  CHECK(t.on_worker_end(failed) == StressTally::Next::Restart);
  t.on_worker_grown();  // it worked once: the failures were transient
  CHECK(t.on_worker_end(failed) == StressTally::Next::Restart);
  CHECK(t.on_worker_end(failed) == StressTally::Next::Restart);
  CHECK(t.on_worker_end(failed) == StressTally::Next::GiveUp);
  CHECK(t.worker_failures() == 5);
  t.on_restart();
  CHECK(t.restarts() == 1);
}

TEST_CASE("worker records survive split reads and carry errors", "[stress][wire]") {
  auto a = make_msg(MsgKind::Step, 4096);
  auto b = make_error_msg(ow::sys_error("write temp file in", "/var/tmp/x", ENOSPC), 8192);
  std::string stream(reinterpret_cast<const char*>(&a), sizeof a);
  stream.append(reinterpret_cast<const char*>(&b), sizeof b);

  std::string buf = stream.substr(0, sizeof a + 10);  // one and a bit
  auto first = take_msgs(buf);
  REQUIRE(first.size() == 1);
  CHECK(first[0].kind == MsgKind::Step);
  CHECK(first[0].held_bytes == 4096);
  CHECK(buf.size() == 10);
  buf += stream.substr(sizeof a + 10);
  auto second = take_msgs(buf);
  REQUIRE(second.size() == 1);
  CHECK(buf.empty());
  CHECK(second[0].kind == MsgKind::Error);
  CHECK(second[0].held_bytes == 8192);
  auto e = msg_error(second[0]);
  CHECK(e.err == ENOSPC);
  CHECK(e.message().find("write temp file in /var/tmp/x") != std::string::npos);
  CHECK(e.message().find("No space left") != std::string::npos);

  // Over-long messages are cut, still NUL-terminated.
  auto longm = make_error_msg(ow::app_error(std::string(500, 'x')), 0);
  CHECK(std::strlen(longm.what) == sizeof longm.what - 1);
}
