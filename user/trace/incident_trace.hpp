// trace_on_incident: after a rescue or an OOM kill in a managed cgroup, a
// bounded charge trace of that cgroup (trace/session.hpp) on this worker's
// own thread, never on the event loop, at most one at a time; its top
// growers are appended to the audit log as a later line of their own that
// names the incident (its trigger and the ts of its audit line). The
// incident's own line is already written and fsynced when the trace starts:
// a rescue never waits for a trace.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cgroup/hierarchy.hpp"
#include "util/noncopyable.hpp"

namespace ow::trace {

class IncidentTrace : NonCopyable {
 public:
  IncidentTrace(cg::Hierarchy h, std::string audit_log, std::chrono::nanoseconds duration);
  ~IncidentTrace();  // ends a running trace early (its line is still written) and joins

  // Queues a trace of `cgroup` for the incident audited at `incident_ts`;
  // false (nothing queued) while one is queued or running.
  bool trigger(const std::string& cgroup, const std::string& trigger, const std::string& incident_ts);

 private:
  struct Job {
    std::string cgroup, trigger, incident_ts;
  };
  void work();
  void run_one(const Job& j);
  cg::Hierarchy h_;
  std::string audit_log_;
  std::chrono::nanoseconds duration_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Job> job_;
  bool busy_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ow::trace
