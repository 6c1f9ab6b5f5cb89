// BPF objects the kernel already holds: what it says of one by fd, and one
// run of an iterator link.
#pragma once
#include <bpf/bpf.h>

#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

struct bpf_link;

namespace ow::bpf {

// BPF_OBJ_GET_INFO_BY_FD into Info (bpf_map_info, bpf_prog_info,
// bpf_link_info); nullopt when the call fails (the fd is not that kind of object).
template <typename Info>
std::optional<Info> obj_info(int fd) {
  Info info{};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return std::nullopt;
  return info;
}

// Creates an iterator from `link` and reads it to its end: the program runs
// over every object once. What it prints is appended to `out` when given.
// Errors: "create <what>" / "read <what>", with path.
Status run_iter(bpf_link* link, std::string_view what, const std::string& path = {}, std::string* out = nullptr);

}  // namespace ow::bpf
