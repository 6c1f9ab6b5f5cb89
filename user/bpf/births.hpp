// New cgroups under watched roots, from the cgroup_mkdir tracepoint
// (bpf/births.bpf.h) through the `births` ring buffer. Decoding is pure.
#pragma once
#include <cstdint>
#include <string>

#include "bpf/ring.hpp"
#include "oomwatch.h"
#include "util/result.hpp"

namespace ow::bpf {

// Validates size and type; a record longer than struct ow_birth_event is
// accepted (its tail ignored), a shorter one is an error.
Result<ow_birth_event> decode_birth(const void* data, size_t size);
// The directory name of a record: its bytes up to the first NUL (a name is
// never empty or longer than NAME_MAX: an empty one is "").
std::string birth_name(const ow_birth_event& e);

using BirthRing = Ring<ow_birth_event, decode_birth>;

}  // namespace ow::bpf
