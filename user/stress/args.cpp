#include "stress/args.hpp"

#include "util/units.hpp"

namespace ow::stress {
namespace {

std::string flagged(std::string_view flag, const std::string& text) { return std::string(flag) + " " + text; }

Result<std::chrono::nanoseconds> interval_flag(std::string_view flag, const std::string& text) {
  auto d = duration_flag(flag, text, false);
  if (!d) return d;
  if (*d < kMinInterval) return app_error(flagged(flag, text) + ": must be at least 10ms");
  return d;
}

}  // namespace

Result<uint64_t> size_flag(std::string_view flag, const std::string& text, uint64_t page_bytes) {
  auto v = parse_size(text);
  if (!v) return app_error(std::string(flag) + ": " + v.error().message());
  if (*v == kUnlimited) return app_error(flagged(flag, text) + ": must be a finite size");
  if (*v < page_bytes)
    return app_error(flagged(flag, text) + ": must be at least one page (" + std::to_string(page_bytes) + " bytes)");
  return v;
}

Result<std::chrono::nanoseconds> duration_flag(std::string_view flag, const std::string& text, bool allow_zero) {
  auto d = parse_duration(text);
  if (!d) return app_error(std::string(flag) + ": " + d.error().message());
  if (!allow_zero && d->count() <= 0) return app_error(flagged(flag, text) + ": must be longer than zero");
  return d;
}

Status check_fits_machine(std::string_view alloc_flag, uint64_t alloc_bytes, uint64_t limit_bytes,
                          uint64_t mem_available_bytes) {
  uint64_t reach = std::min(alloc_bytes, limit_bytes);
  if (reach <= mem_available_bytes) return {};
  std::string why = std::string(alloc_flag) + " " + format_size(alloc_bytes) +
                    " is more than this machine's available memory (MemAvailable " +
                    format_size(mem_available_bytes) + ")";
  if (limit_bytes == kUnlimited) return app_error(why + "; give --memory to cap the run in a cgroup");
  return app_error(why + " and the limit " + format_size(limit_bytes) + " would not stop it first");
}

Result<TestPlan> parse_test_args(const TestArgs& a, uint64_t page_bytes, uint64_t mem_available_bytes) {
  TestPlan p;
  auto st = parse_strategy(a.strategy);
  if (!st) return app_error("--strategy: " + st.error().message());
  p.cfg.strategy = *st;
  auto alloc = size_flag("--alloc", a.alloc, page_bytes);
  if (!alloc) return alloc.error();
  p.cfg.alloc_bytes = *alloc;
  auto step = size_flag("--step", a.step, page_bytes);
  if (!step) return step.error();
  p.cfg.step_bytes = *step;
  auto delay = duration_flag("--step-delay", a.step_delay, true);
  if (!delay) return delay.error();
  p.cfg.step_delay = *delay;
  auto hold = duration_flag("--hold", a.hold, true);
  if (!hold) return hold.error();
  p.cfg.hold = *hold;
  auto iv = interval_flag("--interval", a.interval);
  if (!iv) return iv.error();
  p.cfg.interval = *iv;

  p.limit_bytes = kUnlimited;
  if (!a.memory.empty()) {
    if (a.existing_cgroup)
      return app_error("--memory and --cgroup exclude each other: --cgroup runs under that cgroup's own limit");
    auto m = size_flag("--memory", a.memory, page_bytes);
    if (!m) return m.error();
    p.limit_bytes = *m;
  }
  p.cfg.fresh_cgroup = !a.existing_cgroup;
  if (!a.existing_cgroup) {
    auto fit = check_fits_machine("--alloc", p.cfg.alloc_bytes, p.limit_bytes, mem_available_bytes);
    if (!fit) return fit.error();
  }
  return p;
}

Result<StressPlan> parse_stress_args(const StressArgs& a, uint64_t page_bytes, uint64_t mem_available_bytes) {
  StressPlan p;
  auto st = parse_strategy(a.strategy);
  if (!st) return app_error("--strategy: " + st.error().message());
  p.cfg.strategy = *st;
  auto m = size_flag("--memory", a.memory, page_bytes);
  if (!m) return m.error();
  p.limit_bytes = *m;
  auto t = size_flag("--target", a.target, page_bytes);
  if (!t) return t.error();
  p.cfg.target_bytes = *t;
  if (a.workers < 1 || a.workers > static_cast<int>(kMaxWorkers))
    return app_error("--workers " + std::to_string(a.workers) + ": must be 1 to " + std::to_string(kMaxWorkers));
  p.cfg.workers = static_cast<unsigned>(a.workers);
  if (p.cfg.target_bytes / p.cfg.workers < page_bytes)
    return app_error("--target " + a.target + ": less than one page per worker with --workers " +
                     std::to_string(a.workers));
  auto step = size_flag("--step", a.step, page_bytes);
  if (!step) return step.error();
  p.cfg.step_bytes = *step;
  auto d = duration_flag("--duration", a.duration, false);
  if (!d) return d.error();
  p.cfg.duration = *d;
  auto iv = interval_flag("--interval", a.interval);
  if (!iv) return iv.error();
  p.cfg.interval = *iv;
  auto cyc = interval_flag("--cycle", a.cycle);
  if (!cyc) return cyc.error();
  p.cfg.cycle_period = *cyc;
  auto fit = check_fits_machine("--target", p.cfg.target_bytes, p.limit_bytes, mem_available_bytes);
  if (!fit) return fit.error();
  return p;
}

Result<MonitorPlan> parse_monitor_args(const MonitorArgs& a) {
  MonitorPlan p;
  auto iv = interval_flag("--interval", a.interval);
  if (!iv) return iv.error();
  p.interval = *iv;
  if (!a.duration.empty()) {
    auto d = duration_flag("--duration", a.duration, false);
    if (!d) return d.error();
    p.duration = *d;
  }
  return p;
}

}  // namespace ow::stress
