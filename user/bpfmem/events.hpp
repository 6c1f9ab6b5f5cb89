// Map creations and program loads from the `bpf_obj_events` ring buffer
// (tp/syscalls/sys_{enter,exit}_bpf, LoaderOptions::bpfmem_events).
// Decoding is pure (tested on byte buffers); records are dispatched on their
// first __u32, so records of other types are counted, never misread.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "bpf/ring.hpp"
#include "oomwatch.h"
#include "util/result.hpp"

namespace ow::bpfmem {

Result<ow_bpf_obj_event> decode_obj_event(const void* data, size_t size);
// {"type":"bpf_map_create"|"bpf_prog_load", "pid", "comm", "id", "fd"|"error", ...}
nlohmann::json to_json(const ow_bpf_obj_event& e, const std::string& cgroup);

// The `bpf_obj_events` ring buffer (map creations, program loads).
using ObjEventReader = bpf::Ring<ow_bpf_obj_event, decode_obj_event>;


}  // namespace ow::bpfmem
