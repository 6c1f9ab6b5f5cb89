#include "bpf/events.hpp"

#include "stats/time.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

#include <cstring>

namespace ow::bpf {

static_assert(sizeof(ow_oom_event) == 152, "ABI of struct ow_oom_event changed: update both sides");

Result<ow_oom_event> decode_oom(const void* data, size_t size) {
  return decode_fixed<ow_oom_event>(data, size, OW_EV_OOM_KILL, "ring-buffer");
}

std::string comm_string(const char (&c)[OW_COMM_LEN]) {
  return std::string(field_bytes(c));
}

int64_t mono_to_wall_ns(uint64_t mono_ns) {
  int64_t m = ow::mono_ns();
  int64_t off = wall_ns() - m;
  // mono_ns comes from the record: add in unsigned (wraps) so that no value of
  // it is signed overflow (UB).
  return static_cast<int64_t>(mono_ns + static_cast<uint64_t>(off));
}

std::string event_time(int64_t wall_ns) {
  // Milliseconds: the kill's time is read at mark_victim, a finer fraction says nothing more.
  int64_t ms = wall_ns - ((wall_ns % 1'000'000) + 1'000'000) % 1'000'000;
  return stats::format_rfc3339(ms);
}

nlohmann::ordered_json to_json(const OomKill& e) {
  const auto& r = e.raw;
  // Keys in the order docs/cli.md ("events") lists them: what, when, the
  // victim and its memory, whose limit was hit; then the details. The task
  // whose charge failed is current at mark_victim; the limit cgroup comes
  // from the BPF walk up its memcg ancestry.
  // A figure the kernel did not give is null, never 0: the rss breakdown
  // before 6.8 (pid only), the limit of a global OOM (no limit was hit).
  using ojson = nlohmann::ordered_json;
  const bool pid_only = r.flags & OW_OOM_PID_ONLY, global = r.limit_memcg_id == 0;
  auto known = [](bool yes, uint64_t v) { return yes ? ojson(v) : ojson(); };
  ojson j;
  j["type"] = "oom_kill";
  j["ts"] = event_time(e.wall_ns);
  j["pid"] = r.tgid;
  j["comm"] = printable(e.comm);
  j["cgroup"] = printable(e.cgroup);
  j["cgroup_id"] = r.memcg_id;
  j["anon_rss_bytes"] = known(!pid_only, r.anon_rss_bytes);
  j["file_rss_bytes"] = known(!pid_only, r.file_rss_bytes);
  j["shmem_rss_bytes"] = known(!pid_only, r.shmem_rss_bytes);
  j["pgtables_bytes"] = known(!pid_only, r.pgtables_bytes);
  j["limit_cgroup"] = printable(e.limit_cgroup);
  j["limit_usage_bytes"] = known(!global, r.limit_usage_bytes);
  j["limit_bytes"] = known(!global, r.limit_max_bytes);
  if (!global) j["limit_counter"] = (r.flags & OW_OOM_LIMIT_MEMSW) ? "memsw" : "memory";
  j["limit_from"] = "kernel";
  j["global"] = global;
  j["limit_cgroup_id"] = r.limit_memcg_id;
  j["tid"] = r.pid;
  j["uid"] = r.uid;
  j["oom_score_adj"] = r.oom_score_adj;
  j["total_vm_bytes"] = known(!pid_only, r.total_vm_bytes);
  j["trigger_pid"] = r.trigger_tgid;
  j["trigger_comm"] = printable(e.trigger_comm);
  j["trigger_cgroup"] = printable(e.trigger_cgroup);
  j["trigger_cgroup_id"] = r.trigger_memcg_id;
  j["ts_ns"] = e.wall_ns;
  if (pid_only) j["partial"] = "kernel passes only the victim pid (before 6.8)";
  return j;
}

}  // namespace ow::bpf
