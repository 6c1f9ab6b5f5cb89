#include "stress/stress_run.hpp"

#include <poll.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "stress/outcome.hpp"
#include "stress/plan.hpp"
#include "stress/region.hpp"
#include "stress/worker.hpp"

namespace ow::stress {
namespace {

using Clock = std::chrono::steady_clock;

struct Slot {
  std::optional<Worker> worker;
  uint64_t held_bytes = 0;
  Clock::time_point restart_at = Clock::time_point::max();  // when dead: time to start again
  std::string last_error;
};

}  // namespace

Result<StressResult> run_stress(const cg::Hierarchy& h, const std::string& rel, const StressConfig& cfg,
                                const StressSampleFn& on_sample, const std::atomic<bool>& stop) {
  auto start = read_run_start(h, rel);
  if (!start) return start.error();
  const cg::MemEvents& start_ev = start->events;
  StressResult r{.strategy = cfg.strategy,
                 .limit_bytes = start->limit_bytes,
                 .target_bytes = cfg.target_bytes,
                 .workers = cfg.workers};

  WorkerSpec spec{Charging(cfg), worker_share(cfg.target_bytes, cfg.workers, page_size()), {}, cfg.cycle_period};
  StressTally tally;
  std::vector<Slot> slots(cfg.workers);
  auto t0 = Clock::now();
  for (auto& s : slots) {
    auto w = Worker::spawn(h, rel, spec);
    if (!w) return w.error();  // slots' destructors kill the workers already started
    s.worker.emplace(std::move(*w));
  }

  const auto end = t0 + cfg.duration;
  auto next_sample = t0 + cfg.interval;
  uint64_t sampled_peak = 0;
  auto sample = [&](const cg::MemUsage& u) {
    sampled_peak = std::max(sampled_peak, u.usage_bytes);
    StressSample s;
    s.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    s.usage = u;
    for (const auto& sl : slots)
      if (sl.worker) s.held_bytes += sl.held_bytes, ++s.workers_alive;
    s.peak_bytes = std::max(sampled_peak, cfg.fresh_cgroup ? u.peak_bytes : 0);
    s.max_events = counter_delta(u.events.max, start_ev.max);
    s.oom_kills = counter_delta(u.events.oom_kill, start_ev.oom_kill);
    s.tally = &tally;
    ++r.samples;
    if (on_sample) on_sample(s);
  };

  while (r.error.empty()) {
    auto now = Clock::now();
    // Sampling first, so the tick that falls on the end of the run is kept.
    if (now >= next_sample && next_sample <= end) {
      auto u = h.read(rel);
      if (u) sample(*u);
      next_sample += cfg.interval;
    }
    if (stop.load()) {
      r.interrupted = true;
      break;
    }
    if (now >= end) break;
    for (auto& s : slots) {
      if (s.worker || now < s.restart_at) continue;
      auto w = Worker::spawn(h, rel, spec);
      if (!w) return w.error();
      s.worker.emplace(std::move(*w));
      s.restart_at = Clock::time_point::max();
      tally.on_restart();
    }

    std::vector<pollfd> fds;
    std::vector<Slot*> owners;
    auto wake = std::min(end, next_sample);
    for (auto& s : slots) {
      if (s.worker) {
        fds.push_back({s.worker->report_fd(), POLLIN, 0});
        owners.push_back(&s);
      } else {
        wake = std::min(wake, s.restart_at);
      }
    }
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    (void)::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<int64_t>(wait_ms, 0, 1000)));

    for (size_t i = 0; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      Slot& s = *owners[i];
      std::vector<WorkerMsg> msgs;
      bool open = s.worker->read_reports(msgs);
      for (const auto& m : msgs) {
        s.held_bytes = m.held_bytes;
        if (m.kind == MsgKind::Grown) tally.on_worker_grown();
        if (m.kind == MsgKind::Error) s.last_error = msg_error(m).message();
      }
      if (open) continue;
      auto st = s.worker->reap();
      s.worker.reset();
      s.held_bytes = 0;
      if (tally.on_worker_end(st) == StressTally::Next::GiveUp) {
        r.error = s.last_error.empty() ? "workers keep exiting with status " + std::to_string(st.exit_code)
                                       : s.last_error;
        break;
      }
      s.restart_at = Clock::now() + cfg.restart_delay;
    }

  }

  for (auto& s : slots)
    if (s.worker) s.worker->kill();
  for (auto& s : slots)
    if (s.worker) s.worker->reap();

  r.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto u = h.read(rel);
  if (u) {
    r.max_events = counter_delta(u->events.max, start_ev.max);
    r.oom_kills = counter_delta(u->events.oom_kill, start_ev.oom_kill);
    r.peak_bytes = std::max(sampled_peak, cfg.fresh_cgroup ? u->peak_bytes : 0);
  }
  r.worker_kills = tally.worker_kills();
  r.worker_failures = tally.worker_failures();
  r.restarts = tally.restarts();
  return r;
}

}  // namespace ow::stress
