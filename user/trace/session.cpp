#include "trace/session.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include <unistd.h>

#include "trace/bpf_tracer.hpp"
#include "trace/proc_sampler.hpp"
#include "util/fs.hpp"

namespace ow::trace {

using Clock = std::chrono::steady_clock;

namespace {

// Sleeps until `t`, in steps short enough to notice a stop request soon.
void sleep_until(Clock::time_point t, const std::atomic<bool>* stop) {
  while (Clock::now() < t && !(stop && stop->load()))
    std::this_thread::sleep_for(std::min<Clock::duration>(t - Clock::now(), std::chrono::milliseconds(50)));
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Result<TraceResult> run_session(const cg::Hierarchy& h, const SessionOptions& o) {
  auto id = h.id_of(o.cgroup);
  if (!id) return id.error();
  TraceResult r;
  r.cgroup = o.cgroup;
  std::unique_ptr<BpfTracer> tracer;
  if (o.want != Want::Proc) {
    auto t = BpfTracer::open(*id, h.abs(o.cgroup));
    if (t) {
      tracer = std::move(*t);
    } else if (o.want == Want::Tracepoints) {
      return t.error();
    } else {
      r.note = t.error().message() + ": per-process RSS from /proc instead";
    }
  }
  std::optional<ProcSampler> sampler;
  if (tracer) {
    r.method = Method::Tracepoints;
    r.mode = tracer->mode();
    r.kinds_measured = tracer->kinds();
  } else {
    r.method = Method::ProcSampling;
    r.kinds_measured[static_cast<int>(Kind::Anon)] = true;
    r.kinds_measured[static_cast<int>(Kind::File)] = true;
    r.kinds_measured[static_cast<int>(Kind::Shmem)] = true;
    sampler.emplace(h, o.cgroup);
    if (auto s = sampler->sample(); !s) return s.error();
  }
  // /proc is sampled at least every 100 ms between timeline points, so
  // short growth spurts of short-lived processes are not all missed.
  if (o.started) o.started(r.method);
  auto step = tracer ? o.interval : std::min<std::chrono::nanoseconds>(o.interval, std::chrono::milliseconds(100));
  auto start = Clock::now(), end = start + o.duration, next_point = start + o.interval;
  auto read = [&]() -> Result<Totals> {
    if (tracer) return tracer->read();
    if (auto s = sampler->sample(); !s) return s.error();
    return sampler->totals();
  };
  r.stopped_by = "duration";
  for (;;) {
    auto wake = std::min({end, next_point, Clock::now() + step});
    sleep_until(wake, o.stop);
    auto now = Clock::now();
    bool stopping = (o.stop && o.stop->load()) || now >= end;
    if (o.stop && o.stop->load()) r.stopped_by = "signal";
    bool removed = ::access(h.abs(o.cgroup).c_str(), F_OK) != 0;
    if (removed) {
      r.stopped_by = "cgroup removed";
      stopping = true;
    }
    // a removed cgroup has no processes left to sample: keep the last totals
    auto t = removed && sampler ? Result<Totals>(sampler->totals()) : read();
    if (!t) return t.error();
    if (now >= next_point || stopping) {
      r.timeline.push_back({seconds(now - start), *t});
      next_point += o.interval;
    }
    if (stopping) {
      r.totals = std::move(*t);
      r.duration_s = seconds(now - start);
      break;
    }
  }
  if (tracer) {
    // The kernel side records the comm of a process's first charge (a shell
    // before its exec, often); a process still alive gets its name now.
    for (auto& [tgid, u] : r.totals)
      if (auto c = read_text("/proc/" + std::to_string(tgid) + "/comm"); c && !c->empty())
        u.comm = c->back() == '\n' ? c->substr(0, c->size() - 1) : *c;
    r.events = tracer->events();
    r.drops = tracer->drops();
    tracer->detach();
  } else {
    r.drops = sampler->unreadable();
  }
  return r;
}

}  // namespace ow::trace
