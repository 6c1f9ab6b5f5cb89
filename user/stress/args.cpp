#include "stress/args.hpp"

#include "util/units.hpp"

namespace ow::stress {
namespace {

std::string flagged(std::string_view flag, const std::string& text) { return std::string(flag) + " " + text; }

Result<Strategy> strategy_flag(const std::string& text) {
  auto s = parse_strategy(text);
  if (!s) return app_error("--strategy: " + s.error().message());
  return s;
}

// Parses flags one after another into their fields. After the first error
// the rest are skipped: error() is that one, naming its flag.
class FlagReader {
 public:
  explicit FlagReader(uint64_t page_bytes) : page_bytes_(page_bytes) {}

  FlagReader& strategy(const std::string& text, Strategy& out) {
    return take([&] { return strategy_flag(text); }, out);
  }
  FlagReader& size(std::string_view flag, const std::string& text, uint64_t& out) {
    return take([&] { return size_flag(flag, text, page_bytes_); }, out);
  }
  FlagReader& duration(std::string_view flag, const std::string& text, bool allow_zero, std::chrono::nanoseconds& out) {
    return take([&] { return duration_flag(flag, text, allow_zero); }, out);
  }
  // A sampling or cycle period: at least kMinInterval.
  FlagReader& interval(std::string_view flag, const std::string& text, std::chrono::nanoseconds& out) {
    return take([&] { return interval_flag(flag, text); }, out);
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  template <class Parse, class T>
  FlagReader& take(Parse parse, T& out) {
    if (error_) return *this;
    auto r = parse();
    if (r) out = *r;
    else error_ = r.error();
    return *this;
  }

  uint64_t page_bytes_;
  std::optional<Error> error_;
};

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

Result<std::chrono::nanoseconds> interval_flag(std::string_view flag, const std::string& text,
                                               std::chrono::nanoseconds least) {
  auto d = duration_flag(flag, text, false);
  if (!d) return d;
  if (*d < least) return app_error(flagged(flag, text) + ": must be at least " + format_duration(least));
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
  FlagReader f(page_bytes);
  f.strategy(a.strategy, p.cfg.strategy)
      .size("--alloc", a.alloc, p.cfg.alloc_bytes)
      .size("--step", a.step, p.cfg.step_bytes)
      .duration("--step-delay", a.step_delay, true, p.cfg.step_delay)
      .duration("--hold", a.hold, true, p.cfg.hold)
      .interval("--interval", a.interval, p.cfg.interval);
  if (f.error()) return *f.error();

  p.limit_bytes = kUnlimited;
  if (!a.memory.empty()) {
    if (a.existing_cgroup)
      return app_error("--memory and --cgroup exclude each other: --cgroup runs under that cgroup's own limit");
    if (f.size("--memory", a.memory, p.limit_bytes).error()) return *f.error();
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
  FlagReader f(page_bytes);
  f.strategy(a.strategy, p.cfg.strategy)
      .size("--memory", a.memory, p.limit_bytes)
      .size("--target", a.target, p.cfg.target_bytes);
  if (f.error()) return *f.error();
  if (a.workers < 1 || a.workers > static_cast<int>(kMaxWorkers))
    return app_error("--workers " + std::to_string(a.workers) + ": must be 1 to " + std::to_string(kMaxWorkers));
  p.cfg.workers = static_cast<unsigned>(a.workers);
  if (p.cfg.target_bytes / p.cfg.workers < page_bytes)
    return app_error("--target " + a.target + ": less than one page per worker with --workers " +
                     std::to_string(a.workers));
  f.size("--step", a.step, p.cfg.step_bytes)
      .duration("--duration", a.duration, false, p.cfg.duration)
      .interval("--interval", a.interval, p.cfg.interval)
      .interval("--cycle", a.cycle, p.cfg.cycle_period);
  if (f.error()) return *f.error();
  auto fit = check_fits_machine("--target", p.cfg.target_bytes, p.limit_bytes, mem_available_bytes);
  if (!fit) return fit.error();
  return p;
}

Result<MonitorPlan> parse_monitor_args(const MonitorArgs& a) {
  MonitorPlan p;
  FlagReader f(0);
  f.interval("--interval", a.interval, p.interval);
  if (!a.duration.empty()) f.duration("--duration", a.duration, false, p.duration.emplace());
  if (f.error()) return *f.error();
  return p;
}

}  // namespace ow::stress
