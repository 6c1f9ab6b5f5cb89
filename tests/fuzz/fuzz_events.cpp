// libFuzzer target: the ring-buffer and iterator record decoders, fed raw
// bytes of any length the way libbpf's ring_buffer callback (or a read of the
// iterator fd) hands them over:
//   bpf::decode_oom            `events` ring (struct ow_oom_event), then what
//                              OomSource::deliver and `events --json` do with it;
//   bpfmem::decode_obj_event   `bpf_obj_events` ring (struct ow_bpf_obj_event);
//   bpfmem::parse_map_records  iter/bpf_map output (struct ow_bpf_map_rec);
//   bpf::decode_birth          `births` ring (struct ow_birth_event) and the
//                              name the agent joins to a path.
// The kernel's bytes are data: every JSON line built from them must be one
// line of valid UTF-8, and nothing may throw or read past the record.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "bpf/births.hpp"
#include "bpf/events.hpp"
#include "bpfmem/events.hpp"
#include "bpfmem/kernel.hpp"
#include "bpfmem/table.hpp"
#include "util/text.hpp"
#include "fuzz_check.hpp"

using namespace ow;


namespace {

void check_line(const std::string& line) {
  CHECK(!line.empty() && line.front() == '{' && line.back() == '}');
  CHECK(line.find('\n') == std::string::npos);
  CHECK(valid_utf8(line));
}

// Bytes after the fixed-size record stand in for the cgroup paths the id
// cache would return (a cgroup name may hold any byte but '/' and NUL).
std::pair<std::string, std::string> paths(std::string_view rest) {
  size_t mid = rest.size() / 2;
  return {"/" + std::string(rest.substr(0, mid)), "/" + std::string(rest.substr(mid))};
}

void fuzz_oom(const uint8_t* data, size_t size) {
  auto e = bpf::decode_oom(data, size);
  if (!e) return;
  CHECK(size >= sizeof(ow_oom_event) && e->type == OW_EV_OOM_KILL);
  CHECK(std::memcmp(&*e, data, sizeof(ow_oom_event)) == 0);
  bpf::OomKill k;
  k.raw = *e;
  k.comm = bpf::comm_string(e->comm);
  k.trigger_comm = bpf::comm_string(e->trigger_comm);
  CHECK(k.comm.size() < OW_COMM_LEN + 1 && k.trigger_comm.size() < OW_COMM_LEN + 1);
  k.wall_ns = bpf::mono_to_wall_ns(e->ts_ns);
  // victim, trigger and limit cgroup paths: the first half, the second half,
  // and the whole tail (the limit cgroup is often one of the other two)
  std::string_view rest(reinterpret_cast<const char*>(data) + sizeof(ow_oom_event), size - sizeof(ow_oom_event));
  std::tie(k.cgroup, k.trigger_cgroup) = paths(rest);
  k.limit_cgroup = e->limit_memcg_id ? "/" + std::string(rest) : "";
  auto j = bpf::to_json(k);
  CHECK(j["global"].get<bool>() == (e->limit_memcg_id == 0));
  CHECK(j["limit_cgroup_id"].get<uint64_t>() == e->limit_memcg_id);
  if (e->limit_memcg_id != 0) CHECK(j["limit_bytes"].get<uint64_t>() == e->limit_max_bytes);
  else CHECK(j["limit_bytes"].is_null());
  CHECK(j.contains("limit_counter") == (e->limit_memcg_id != 0));
  check_line(json_line(j));
}

void fuzz_obj_event(const uint8_t* data, size_t size) {
  auto e = bpfmem::decode_obj_event(data, size);
  if (!e) return;
  CHECK(size >= sizeof(ow_bpf_obj_event) && e->type == OW_EV_BPF_OBJ);
  auto p = paths(std::string_view(reinterpret_cast<const char*>(data) + sizeof(ow_bpf_obj_event),
                                  size - sizeof(ow_bpf_obj_event)));
  check_line(json_line(bpfmem::to_json(*e, p.first)));
}

void fuzz_map_records(const uint8_t* data, size_t size) {
  auto r = bpfmem::parse_map_records(std::string(reinterpret_cast<const char*>(data), size));
  CHECK(r.ok() == (size % sizeof(ow_bpf_map_rec) == 0));
  if (!r) return;
  CHECK(r->size() == size / sizeof(ow_bpf_map_rec));
  if (!r->empty()) CHECK(std::memcmp(r->data(), data, size) == 0);
  for (const auto& m : *r) {
    std::string name(m.name, strnlen(m.name, sizeof m.name));
    CHECK(name.size() <= sizeof m.name);
    CHECK(!bpfmem::map_type_name(m.map_type).empty());
    (void)printable(name);
  }
}


void fuzz_birth(const uint8_t* data, size_t size) {
  auto e = bpf::decode_birth(data, size);
  if (!e) return;
  CHECK(size >= sizeof(ow_birth_event) && e->type == OW_EV_CGROUP_BIRTH);
  std::string name = bpf::birth_name(*e);
  CHECK(name.size() <= sizeof e->name && name.find('\0') == std::string::npos);
  check_line(json_line(nlohmann::json{{"cgroup", printable("/root/" + name)}, {"id", e->cgroup_id}}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_birth(data, size);
  fuzz_oom(data, size);
  fuzz_obj_event(data, size);
  fuzz_map_records(data, size);
  return 0;
}
