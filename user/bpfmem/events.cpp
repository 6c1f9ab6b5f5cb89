#include "bpfmem/events.hpp"

#include <linux/bpf.h>

#include <cstring>

#include "bpfmem/table.hpp"
#include "util/text.hpp"

namespace ow::bpfmem {

static_assert(sizeof(ow_bpf_obj_event) == 104, "ABI of struct ow_bpf_obj_event changed: update both sides");

Result<ow_bpf_obj_event> decode_obj_event(const void* data, size_t size) {
  if (size < sizeof(__u32)) return app_error("empty ring-buffer record");
  __u32 type;
  std::memcpy(&type, data, sizeof type);
  if (type != OW_EV_BPF_OBJ) return app_error("unknown event type " + std::to_string(type));
  if (size < sizeof(ow_bpf_obj_event))
    return app_error("short bpf object record (" + std::to_string(size) + " bytes)");
  ow_bpf_obj_event e;
  std::memcpy(&e, data, sizeof e);
  if (e.cmd != BPF_MAP_CREATE && e.cmd != BPF_PROG_LOAD) return app_error("unexpected bpf cmd " + std::to_string(e.cmd));
  return e;
}

nlohmann::json to_json(const ow_bpf_obj_event& e, const std::string& cgroup) {
  bool map = e.cmd == BPF_MAP_CREATE;
  nlohmann::json j{{"type", map ? "bpf_map_create" : "bpf_prog_load"},
                   {"pid", e.tgid},
                   {"tid", e.pid},
                   {"comm", printable(field_bytes(e.comm))},
                   {"cgroup", printable(cgroup)},
                   {"cgroup_id", e.memcg_id},
                   {"name", std::string(field_bytes(e.name))},
                   {"id", e.obj_id},
                   {"duration_ns", e.duration_ns}};
  if (e.ret >= 0) j["fd"] = e.ret;
  else j["error"] = std::strerror(static_cast<int>(-static_cast<int64_t>(e.ret)));  // -INT_MIN overflows int
  if (map) {
    j["map_type"] = map_type_name(e.obj_type);
    j["key_size"] = e.key_size;
    j["value_size"] = e.value_size;
    j["max_entries"] = e.max_entries;
    j["map_flags"] = e.flags;
  } else {
    j["prog_type"] = prog_type_name(e.obj_type);
    j["insn_cnt"] = e.insn_cnt;
    j["prog_flags"] = e.flags;
  }
  return j;
}

}  // namespace ow::bpfmem
