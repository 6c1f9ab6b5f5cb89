#include "stress/limit_test.hpp"

#include <poll.h>

#include <algorithm>
#include <string_view>

#include "stress/outcome.hpp"
#include "stress/worker.hpp"

namespace ow::stress {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr auto kPeakSamplePeriod = std::chrono::milliseconds(5);

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int poll_ms(std::chrono::nanoseconds d) {
  if (d.count() <= 0) return 0;
  return static_cast<int>(std::max<int64_t>(1, duration_cast<milliseconds>(d).count()));
}

}  // namespace

Result<LimitTestResult> run_limit_test(const cg::Hierarchy& h, const std::string& rel, const LimitTestConfig& cfg,
                                       const LimitTestProgressFn& on_progress, const std::atomic<bool>& stop) {
  auto start = read_run_start(h, rel);
  if (!start) return start.error();
  LimitTestResult r{.strategy = cfg.strategy, .limit_bytes = start->limit_bytes, .alloc_bytes = cfg.alloc_bytes};

  WorkerSpec spec{Charging(cfg), cfg.alloc_bytes, cfg.step_delay, {}};
  auto t0 = Clock::now();
  auto w = Worker::spawn(h, rel, spec);
  if (!w) return w.error();

  const char* phase = "starting";
  uint64_t sampled_peak = 0;
  auto last_peak_sample = t0 - kPeakSamplePeriod;
  auto last_emit = t0 - cfg.interval;
  auto hold_until = Clock::time_point::max();
  // Every reading of the cgroup also feeds the sampled peak.
  auto emit = [&](bool force) {
    if (!force && Clock::now() - last_emit < cfg.interval) return;
    auto u = h.read(rel);
    if (!u) return;  // transient: the next tick reads again
    sampled_peak = std::max(sampled_peak, u->usage_bytes);
    last_emit = Clock::now();
    if (on_progress) on_progress({seconds_since(t0), w->pid(), phase, r.allocated_bytes, *u});
  };

  for (bool open = true; open;) {
    if (stop.load()) {
      r.interrupted = true;
      w->kill();
      break;
    }
    bool releasing = std::string_view(phase) == "releasing";
    // Releasing: nothing to report; the worker's EOF wakes the poll.
    std::chrono::nanoseconds wait = releasing ? std::chrono::seconds(1) : cfg.interval - (Clock::now() - last_emit);
    if (hold_until != Clock::time_point::max()) wait = std::min<std::chrono::nanoseconds>(wait, hold_until - Clock::now());
    pollfd p{w->report_fd(), POLLIN, 0};
    (void)::poll(&p, 1, poll_ms(wait));  // EINTR: the loop re-checks stop

    std::vector<WorkerMsg> msgs;
    open = w->read_reports(msgs);
    bool changed = false;
    for (const auto& m : msgs) {
      r.allocated_bytes = m.held_bytes;
      switch (m.kind) {
        case MsgKind::Joined: phase = "allocating", changed = true; break;
        case MsgKind::Step:
          // Between progress lines the usage is still sampled for the peak of
          // a shared cgroup (no watermark of ours), but not per 4K step.
          if (Clock::now() - last_peak_sample >= kPeakSamplePeriod) {
            last_peak_sample = Clock::now();
            auto u = h.usage(rel);
            if (u) sampled_peak = std::max(sampled_peak, *u);
          }
          break;
        case MsgKind::Grown:
          phase = "holding", changed = true;
          hold_until = Clock::now() + cfg.hold;
          break;
        case MsgKind::Error: r.error = msg_error(m).message(); break;
      }
    }
    if (!open) break;
    if (changed) emit(true);
    if (Clock::now() >= hold_until) {
      w->release();  // the worker frees and exits 0; EOF ends the loop
      hold_until = Clock::time_point::max();
      phase = "releasing";
      continue;
    }
    if (!releasing) emit(false);
  }

  auto st = w->reap();
  r.duration_s = seconds_since(t0);
  auto after = h.events(rel);
  auto o = classify(st, start->events.oom_kill, after ? after->oom_kill : start->events.oom_kill);
  r.oom_killed = o.oom_killed;
  r.oom_kills = o.oom_kills;
  r.exit_code = o.exit_code;
  r.peak_bytes = sampled_peak;
  if (cfg.fresh_cgroup) {
    auto u = h.read(rel);
    if (u && u->peak_bytes > 0) {
      r.peak_bytes = std::max(r.peak_bytes, u->peak_bytes);
      r.peak_from_watermark = true;
    }
  }
  return r;
}

}  // namespace ow::stress
