#include "bpf/births.hpp"

#include "util/text.hpp"

namespace ow::bpf {

static_assert(sizeof(ow_birth_event) == 296, "ABI of struct ow_birth_event changed: update both sides");

Result<ow_birth_event> decode_birth(const void* data, size_t size) {
  return decode_fixed<ow_birth_event>(data, size, OW_EV_CGROUP_BIRTH, "births");
}

std::string birth_name(const ow_birth_event& e) { return std::string(field_bytes(e.name)); }

}  // namespace ow::bpf
