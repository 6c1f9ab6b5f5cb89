// One bounded charge trace of one cgroup: picks the method (tracepoints when
// the kernel has them, else /proc sampling), runs for a duration or until
// stopped, and returns what report.hpp prints. Used by `oomwatch trace` and
// by the agent's incident traces (on their own thread).
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "cgroup/hierarchy.hpp"
#include "trace/report.hpp"
#include "util/result.hpp"

namespace ow::trace {

enum class Want { Auto, Tracepoints, Proc };

struct SessionOptions {
  std::string cgroup;  // normalized, relative to the hierarchy ("/a/b")
  Want want = Want::Auto;
  std::chrono::nanoseconds duration{std::chrono::seconds(10)};
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};  // timeline step
  const std::atomic<bool>* stop = nullptr;  // set: end early (signal)
  // Called once measuring has begun (programs attached, or the /proc
  // baseline taken): growth from then on is in the report.
  std::function<void(Method)> started;
};

Result<TraceResult> run_session(const cg::Hierarchy& h, const SessionOptions& o);

}  // namespace ow::trace
