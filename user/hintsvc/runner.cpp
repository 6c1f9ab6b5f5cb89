#include "hintsvc/runner.hpp"

#include <chrono>

#include "util/clock.hpp"
#include "util/log.hpp"

namespace ow::hintsvc {

Result<std::unique_ptr<HintRunner>> HintRunner::open(const cg::Hierarchy& h, HintOptions o) {
  auto svc = HintService::open(h, std::move(o));
  if (!svc) return svc.error();
  return std::unique_ptr<HintRunner>(new HintRunner(std::move(*svc)));
}

HintRunner::HintRunner(std::unique_ptr<HintService> svc) : svc_(std::move(svc)) {}

HintRunner::~HintRunner() { (void)stop(); }

void HintRunner::start(RoundSink on_round) {
  if (started_) return;
  started_ = true;
  on_round_ = std::move(on_round);
  svc_->tick(mono_ns(), true);
  worker_.start("ow-hints", [this] { run(); });
}

void HintRunner::refresh(const std::string& cgroup) {
  {
    auto lk = worker_.lock();
    jobs_.push_back(cgroup);
  }
  worker_.wake();
}

void HintRunner::snapshot(std::shared_ptr<const sampler::Snapshot> snap) {
  auto lk = worker_.lock();
  snap_ = std::move(snap);
}

void HintRunner::run() {
  for (;;) {
    std::deque<std::string> jobs;
    std::shared_ptr<const sampler::Snapshot> snap;
    {
      auto lk = worker_.lock();
      if (worker_.wait_for(lk, std::chrono::seconds(1), [&] { return !jobs_.empty(); })) return;
      jobs.swap(jobs_);
      snap = snap_;
    }
    try {
      for (const auto& c : jobs)
        if (svc_->covers(c)) (void)svc_->refresh(c);
      int64_t now = mono_ns();
      // Recomputes all only when the service's period has passed.
      if (snap) svc_->tick(now, *snap);
      else svc_->tick(now);
      svc_->maybe_log(now);
      if (on_round_) on_round_(*svc_);
    } catch (const std::exception& e) {
      spdlog::error("GOMEMLIMIT hints: internal error (the hints go on): {}", e.what());
    }
  }
}

Status HintRunner::stop() {
  if (!started_ || stopped_) return {};
  stopped_ = true;
  worker_.stop();
  withdrawn_ = svc_->published().size();  // the thread is joined: the service is ours again
  return svc_->shutdown();
}

}  // namespace ow::hintsvc
