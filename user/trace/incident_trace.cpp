#include "trace/incident_trace.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "policy/audit.hpp"
#include "trace/session.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::trace {

namespace {
// growers listed in the audit line
constexpr size_t kTopGrowers = 5;
}  // namespace

IncidentTrace::IncidentTrace(cg::Hierarchy h, std::string audit_log, std::chrono::nanoseconds duration)
    : h_(std::move(h)), audit_log_(std::move(audit_log)), duration_(duration), thread_([this] { work(); }) {}

IncidentTrace::~IncidentTrace() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool IncidentTrace::trigger(const std::string& cgroup, const std::string& trigger, const std::string& incident_ts) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (busy_ || job_) {
      spdlog::info("trace_on_incident: {} not traced, a trace is already running", printable(cgroup));
      return false;
    }
    job_ = Job{cgroup, trigger, incident_ts};
  }
  cv_.notify_one();
  return true;
}

void IncidentTrace::work() {
  for (;;) {
    Job j;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_.load() || job_.has_value(); });
      if (stop_.load()) return;
      j = std::move(*job_);
      job_.reset();
      busy_ = true;
    }
    run_one(j);
    std::lock_guard<std::mutex> l(mu_);
    busy_ = false;
  }
}

void IncidentTrace::run_one(const Job& j) {
  trace::SessionOptions so;
  so.cgroup = j.cgroup;
  so.duration = duration_;
  so.interval = duration_;  // no timeline in the audit line
  so.stop = &stop_;
  auto r = trace::run_session(h_, so);
  nlohmann::ordered_json line;
  line["ts"] = policy::rfc3339_ms(wall_ns());
  line["type"] = "incident_trace";
  line["cgroup"] = printable(j.cgroup);
  line["incident"] = {{"trigger", j.trigger}, {"ts", j.incident_ts}};
  if (!r) {
    line["error"] = r.error().message();
  } else {
    auto rep = trace::to_json(*r, kTopGrowers);
    for (const char* k : {"method", "mode", "note", "duration_s", "stopped_by", "kinds", "net_bytes"})
      if (rep.contains(k)) line[k] = rep[k];
    if (stop_.load()) line["stopped_by"] = "agent stopping";
    line["growers"] = rep["processes"];
  }
  if (auto s = append_line_fsync(audit_log_, json_line(line)); !s)
    spdlog::error("audit log {}: {}", audit_log_, s.error().message());
  else
    spdlog::info("trace_on_incident: growers of {} audited", printable(j.cgroup));
}

}  // namespace ow::trace
