#include "sampler/worker.hpp"

#include <spdlog/spdlog.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <exception>

#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::sampler {

TakenSnapshot take_snapshot(sampler::Sampler& s, uint64_t weight) {
  TakenSnapshot t;
  t.started_mono_ns = mono_ns();
  auto taken = s.take();
  t.took_ns = mono_ns() - t.started_mono_ns;
  if (!taken) {
    t.error = taken.error().message();
    return t;
  }
  taken->weight = weight;
  auto snap = std::make_shared<const sampler::Snapshot>(std::move(*taken));
  auto index = std::make_shared<std::unordered_map<std::string_view, size_t>>();
  index->reserve(snap->samples.size());
  for (size_t i = 0; i < snap->samples.size(); ++i) index->emplace(snap->samples[i].cgroup, i);
  t.snap = std::move(snap);
  t.index = std::move(index);
  return t;
}

Result<std::unique_ptr<SnapshotWorker>> SnapshotWorker::start(sampler::Sampler& s, policy::CpuBudget budget,
                                                              After after) {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return sys_error("eventfd");
  return std::unique_ptr<SnapshotWorker>(new SnapshotWorker(s, budget, UniqueFd(fd), std::move(after)));
}

SnapshotWorker::SnapshotWorker(sampler::Sampler& s, policy::CpuBudget budget, UniqueFd efd, After after)
    : s_(s), budget_(budget), efd_(std::move(efd)), after_(std::move(after)) {
  worker_.start("ow-snapshot", [this] { run(); });
}

SnapshotWorker::~SnapshotWorker() { stop(); }

void SnapshotWorker::stop() { worker_.stop(); }

std::optional<TakenSnapshot> SnapshotWorker::take() {
  uint64_t n;
  (void)!::read(efd_.get(), &n, sizeof n);  // drain; EAGAIN when already drained
  auto lk = worker_.lock();
  std::optional<TakenSnapshot> out;
  out.swap(ready_);
  return out;
}

namespace {

// Once a minute, off the loop thread: glibc keeps the pages of freed memory
// in each thread's arena, and the agent's threads free a lot between
// long-lived allocations (a snapshot of every cgroup each interval, SQLite's
// page cache filling beside it). Without this the soak's RSS rose by about
// 1 MiB a minute while the live heap stayed under 3 MB. malloc_trim(0)
// returns every whole free page of every arena to the kernel.
constexpr auto kTrimEvery = std::chrono::seconds(60);

void give_back_free_memory() {
  int64_t t0 = mono_ns();
  ::malloc_trim(0);
  spdlog::debug("malloc_trim: {} us", (mono_ns() - t0) / 1000);
}

}  // namespace

void SnapshotWorker::run() {
  // The first snapshot was taken on the loop before ready; the next one an
  // interval later, then on a fixed schedule (a slow walk does not drift it).
  const int64_t base = budget_.base_ns;
  int64_t interval = base;
  auto next = std::chrono::steady_clock::now() + std::chrono::nanoseconds(interval);
  auto next_trim = next + kTrimEvery;
  // The budget's period: CPU of every thread of the process (the walk runs
  // in the kernel on this thread; the history, the loop and /metrics on
  // theirs), over wall time, from when the agent was ready.
  int64_t period_mono = mono_ns(), period_cpu = process_cpu_ns();
  int64_t period_walks_cpu = 0;  // this thread's CPU in the walks of the period: the part that scales with the rate
  double used = -1;
  for (;;) {
    {
      auto lk = worker_.lock();
      if (worker_.wait_until(lk, next, Worker::never)) return;
    }
    auto now = std::chrono::steady_clock::now();
    const uint64_t weight = static_cast<uint64_t>(interval / base);  // what this snapshot stands for
    TakenSnapshot t;
    const int64_t walk_cpu0 = thread_cpu_ns();
    try {
      t = take_snapshot(s_, weight);
    } catch (const std::exception& e) {
      t.error = std::string("internal error: ") + e.what();
    }
    period_walks_cpu += thread_cpu_ns() - walk_cpu0;
    if (budget_.budget > 0) {
      int64_t m = mono_ns();
      int64_t c = process_cpu_ns();
      const bool early = m - period_mono < policy::adjust_period(interval);
      if (!early || policy::over_before_end(budget_, c - period_cpu, m - period_mono, interval)) {
        const double wall = static_cast<double>(m - period_mono);
        used = static_cast<double>(c - period_cpu) / wall;
        const double walks = static_cast<double>(period_walks_cpu) / wall;
        // Decided early, the figure is a few walks' worth and mostly one-off
        // work (at the start: every cgroup's first row, its series): taken
        // as all scaling with the rate, the milder step; a whole period
        // splits the walks from the rest.
        int64_t to = early ? policy::next_interval(budget_, used, interval)
                           : policy::next_interval(budget_, used, walks, interval);
        if (to != interval)
          spdlog::info("snapshot interval {} -> {}: agent CPU {:.2f}% of a core over {} (the walks {:.2f}%), budget {}%",
                       format_duration(std::chrono::nanoseconds(interval)), format_duration(std::chrono::nanoseconds(to)),
                       100 * used, format_duration(std::chrono::seconds((m - period_mono + 500'000'000) / 1'000'000'000)),
                       100 * walks, 100 * budget_.budget);
        interval = to;
        period_mono = m;
        period_cpu = c;
        period_walks_cpu = 0;
      }
    }
    t.interval_ns = interval;
    t.cpu_used = used;
    next += std::chrono::nanoseconds(interval);
    if (next <= now) next = now + std::chrono::nanoseconds(interval);  // fell behind: skip, do not burst
    std::shared_ptr<const sampler::Snapshot> snap = t.snap;
    {
      auto lk = worker_.lock();
      ready_ = std::move(t);
    }
    uint64_t one = 1;
    (void)!::write(efd_.get(), &one, sizeof one);
    if (after_ && snap) after_(*snap);
    if (now >= next_trim) {
      next_trim = now + kTrimEvery;
      give_back_free_memory();
    }
  }
}

}  // namespace ow::sampler
