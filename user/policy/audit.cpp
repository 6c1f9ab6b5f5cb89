#include "policy/audit.hpp"

#include <cstdio>
#include <ctime>

#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::policy {

using ojson = nlohmann::ordered_json;

std::string rfc3339_ms(int64_t ts_ns) {
  // Floor division so times before 1970 still print the right second.
  int64_t sec = ts_ns / 1'000'000'000, rem = ts_ns % 1'000'000'000;
  if (rem < 0) {
    sec -= 1;
    rem += 1'000'000'000;
  }
  time_t t = static_cast<time_t>(sec);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[80];  // ample for any int fields gmtime_r can produce
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem / 1'000'000));
  return buf;
}

namespace {

ojson bytes_or_max(uint64_t b) { return b == kUnlimited ? ojson("max") : ojson(b); }

}  // namespace

ojson audit_record(const Plan& plan, const Trigger& trigger, bool dry_run, int64_t ts_ns,
                   std::string_view result) {
  ojson j;
  j["oom_cgroup"] = plan.oom_cgroup;
  j["added_memory"] = plan.added_bytes;
  j["adjusted_cgroups"] = ojson::array();
  for (const auto& a : plan.adjustments)
    if (!a.receiver) j["adjusted_cgroups"].push_back({{"name", a.path}, {"reduced_memory", a.reduced_bytes}});
  j["ts"] = rfc3339_ms(ts_ns);
  j["trigger"] = to_string(trigger.kind);
  j["source"] = to_string(plan.source);
  j["dry_run"] = dry_run;
  ojson before = ojson::object(), after = ojson::object();
  for (const auto& a : plan.adjustments) {
    before[a.path] = bytes_or_max(a.old_limit_bytes);
    after[a.path] = bytes_or_max(a.new_limit_bytes);
  }
  if (plan.adjustments.empty()) {  // nothing moves: still show the receiver's limit
    before[plan.oom_cgroup] = bytes_or_max(plan.receiver_limit_bytes);
    after[plan.oom_cgroup] = bytes_or_max(plan.receiver_limit_bytes);
  }
  j["limits_before"] = std::move(before);
  j["limits_after"] = std::move(after);
  j["result"] = result.empty() ? std::string(to_string(plan.result)) : std::string(result);
  j["reason"] = plan.reason;
  j["need"] = plan.need_bytes;
  j["from_global"] = plan.global_bytes;
  j["headroom"] = bytes_or_max(plan.headroom_bytes);
  j["growth_rate"] = trigger.growth_bytes_per_s;
  j["streak"] = plan.streak;
  if (trigger.kind == TriggerKind::oom_kill) j["victim_rss"] = trigger.victim_rss_bytes;
  return j;
}

std::string audit_line(const Plan& plan, const Trigger& trigger, bool dry_run, int64_t ts_ns,
                       std::string_view result) {
  return json_line(audit_record(plan, trigger, dry_run, ts_ns, result)) + "\n";
}

}  // namespace ow::policy
