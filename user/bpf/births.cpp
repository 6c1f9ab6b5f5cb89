#include "bpf/births.hpp"

#include <cstring>

namespace ow::bpf {

static_assert(sizeof(ow_birth_event) == 296, "ABI of struct ow_birth_event changed: update both sides");

Result<ow_birth_event> decode_birth(const void* data, size_t size) {
  if (size < sizeof(ow_birth_event))
    return app_error("short births record (" + std::to_string(size) + " bytes)");
  ow_birth_event e;
  std::memcpy(&e, data, sizeof e);
  if (e.type != OW_EV_CGROUP_BIRTH) return app_error("unknown event type " + std::to_string(e.type));
  return e;
}

std::string birth_name(const ow_birth_event& e) { return std::string(e.name, strnlen(e.name, sizeof e.name)); }

}  // namespace ow::bpf
