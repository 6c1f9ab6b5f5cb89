// The worker's side: grow, report, hold. Runs in the forked child only.
#include <poll.h>

#include <chrono>

#include "stress/holder.hpp"
#include "stress/plan.hpp"
#include "stress/worker.hpp"

namespace ow::stress {
namespace {

using Clock = std::chrono::steady_clock;

// Re-reading the file kind more often than this buys nothing but CPU.
constexpr auto kKeepalivePeriod = std::chrono::seconds(1);

// Waits up to d for the controller's release (EOF on the control pipe).
bool released(int control_fd, std::chrono::nanoseconds d) {
  pollfd p{control_fd, POLLIN, 0};
  int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  int n = ::poll(&p, 1, ms);
  return n > 0;  // only EOF is ever "readable": the controller never writes
}

}  // namespace

int worker_main(const WorkerSpec& spec, int report_fd, int control_fd) {
  Holder holder(spec.file_dir);
  StepPlan plan(spec.strategy, spec.total_bytes, spec.step_bytes, page_size());
  if (!send_msg(report_fd, make_msg(MsgKind::Joined, 0))) return 1;
  while (auto step = plan.next()) {
    auto s = holder.apply(*step);
    if (!s) {
      send_msg(report_fd, make_error_msg(s.error(), holder.held_bytes()));
      return 1;
    }
    if (!send_msg(report_fd, make_msg(MsgKind::Step, holder.held_bytes()))) return 1;
    if (spec.step_delay.count() > 0 && released(control_fd, spec.step_delay)) return 0;
  }
  if (!send_msg(report_fd, make_msg(MsgKind::Grown, holder.held_bytes()))) return 1;

  bool cycling = spec.cycle_period.count() > 0;
  std::chrono::nanoseconds period = cycling ? spec.cycle_period : kKeepalivePeriod;
  auto last_keepalive = Clock::now();
  while (!released(control_fd, period)) {
    Status s;
    if (cycling) s = holder.recycle_next();
    if (s && Clock::now() - last_keepalive >= kKeepalivePeriod) {
      s = holder.keepalive();
      last_keepalive = Clock::now();
    }
    if (!s) {
      send_msg(report_fd, make_error_msg(s.error(), holder.held_bytes()));
      return 1;
    }
  }
  return 0;
}

}  // namespace ow::stress
