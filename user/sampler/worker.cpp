#include "sampler/worker.hpp"

#include <spdlog/spdlog.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <exception>

#include "util/clock.hpp"
#include "util/fs.hpp"

namespace ow::sampler {

TakenSnapshot take_snapshot(sampler::Sampler& s) {
  TakenSnapshot t;
  t.started_mono_ns = mono_ns();
  auto taken = s.take();
  t.took_ns = mono_ns() - t.started_mono_ns;
  if (!taken) {
    t.error = taken.error().message();
    return t;
  }
  auto snap = std::make_shared<const sampler::Snapshot>(std::move(*taken));
  auto index = std::make_shared<std::unordered_map<std::string_view, size_t>>();
  index->reserve(snap->samples.size());
  for (size_t i = 0; i < snap->samples.size(); ++i) index->emplace(snap->samples[i].cgroup, i);
  t.snap = std::move(snap);
  t.index = std::move(index);
  return t;
}

Result<std::unique_ptr<SnapshotWorker>> SnapshotWorker::start(sampler::Sampler& s, int64_t interval_ns,
                                                              After after) {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return sys_error("eventfd");
  return std::unique_ptr<SnapshotWorker>(new SnapshotWorker(s, interval_ns, UniqueFd(fd), std::move(after)));
}

SnapshotWorker::SnapshotWorker(sampler::Sampler& s, int64_t interval_ns, UniqueFd efd, After after)
    : s_(s), interval_ns_(interval_ns), efd_(std::move(efd)), after_(std::move(after)) {
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
  auto next = std::chrono::steady_clock::now() + std::chrono::nanoseconds(interval_ns_);
  auto next_trim = next + kTrimEvery;
  for (;;) {
    {
      auto lk = worker_.lock();
      if (worker_.wait_until(lk, next, Worker::never)) return;
    }
    auto now = std::chrono::steady_clock::now();
    next += std::chrono::nanoseconds(interval_ns_);
    if (next <= now) next = now + std::chrono::nanoseconds(interval_ns_);  // fell behind: skip, do not burst
    TakenSnapshot t;
    try {
      t = take_snapshot(s_);
    } catch (const std::exception& e) {
      t.error = std::string("internal error: ") + e.what();
    }
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
