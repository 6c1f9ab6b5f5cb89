#include "bpfmem/events.hpp"

#include <bpf/libbpf.h>
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
                   {"comm", printable(std::string_view(e.comm, strnlen(e.comm, sizeof e.comm)))},
                   {"cgroup", printable(cgroup)},
                   {"cgroup_id", e.memcg_id},
                   {"name", std::string(e.name, strnlen(e.name, sizeof e.name))},
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

Result<std::unique_ptr<ObjEventReader>> ObjEventReader::open(int map_fd, Handler on_event) {
  std::unique_ptr<ObjEventReader> r(new ObjEventReader());
  r->handler_ = std::move(on_event);
  r->rb_ = ring_buffer__new(map_fd, &ObjEventReader::on_sample, r.get(), nullptr);
  if (!r->rb_) return sys_error("open bpf_obj_events ring buffer");
  return r;
}

ObjEventReader::~ObjEventReader() {
  if (rb_) ring_buffer__free(rb_);
}

int ObjEventReader::on_sample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<ObjEventReader*>(ctx);
  auto e = decode_obj_event(data, size);
  if (!e) {
    ++self->unknown_;
    return 0;
  }
  self->handler_(*e);
  return 0;
}

Result<int> ObjEventReader::poll(int timeout_ms) {
  int n = ring_buffer__poll(rb_, timeout_ms);
  if (n == -EINTR) return 0;
  if (n < 0) return sys_error("poll bpf_obj_events ring buffer", {}, -n);
  return n;
}

int ObjEventReader::epoll_fd() const { return ring_buffer__epoll_fd(rb_); }

}  // namespace ow::bpfmem
