#include "bpf/events.hpp"

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

nlohmann::json to_json(const OomKill& e) {
  const auto& r = e.raw;
  // The victim; the task whose charge failed (current at mark_victim); whose
  // limit was hit, from the BPF walk up current's memcg ancestry.
  nlohmann::json j{
      {"type", "oom_kill"}, {"ts_ns", e.wall_ns},
      {"pid", r.tgid}, {"tid", r.pid}, {"comm", printable(e.comm)}, {"uid", r.uid}, {"oom_score_adj", r.oom_score_adj},
      {"cgroup", printable(e.cgroup)}, {"cgroup_id", r.memcg_id},
      {"anon_rss_bytes", r.anon_rss_bytes}, {"file_rss_bytes", r.file_rss_bytes}, {"shmem_rss_bytes", r.shmem_rss_bytes},
      {"pgtables_bytes", r.pgtables_bytes}, {"total_vm_bytes", r.total_vm_bytes},
      {"trigger_pid", r.trigger_tgid}, {"trigger_comm", printable(e.trigger_comm)},
      {"trigger_cgroup", printable(e.trigger_cgroup)}, {"trigger_cgroup_id", r.trigger_memcg_id},
      {"global", r.limit_memcg_id == 0}, {"limit_cgroup", printable(e.limit_cgroup)},
      {"limit_cgroup_id", r.limit_memcg_id}, {"limit_usage_bytes", r.limit_usage_bytes},
      {"limit_bytes", r.limit_max_bytes}, {"limit_from", "kernel"}};
  if (r.limit_memcg_id != 0) j["limit_counter"] = (r.flags & OW_OOM_LIMIT_MEMSW) ? "memsw" : "memory";
  if (r.flags & OW_OOM_PID_ONLY) j["partial"] = "kernel passes only the victim pid (before 6.8)";
  return j;
}

}  // namespace ow::bpf
