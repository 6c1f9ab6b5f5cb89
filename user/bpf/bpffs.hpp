// Pin directories on a bpf filesystem. The only mount oomwatch ever makes is
// bpffs at /sys/fs/bpf, and only when a pin is asked for under it and it is
// not mounted yet (docs/safety.md); a pin directory anywhere else must already
// be on a bpffs, and nothing is created when it is not.
#pragma once
#include <string>

#include "util/result.hpp"

namespace ow::bpf {

constexpr long kBpfFsMagic = 0xcafe4a11;
// Where bpffs is mounted, and where oomwatch pins its maps unless told otherwise.
inline constexpr const char* kBpfFsRoot = "/sys/fs/bpf";
inline constexpr const char* kDefaultPinDir = "/sys/fs/bpf/oomwatch";

bool on_bpffs(const std::string& path);
// Makes `dir` (0700) for pins, mounting bpffs at /sys/fs/bpf first when dir
// is under it and it is not one yet. An error, before anything is created,
// when dir's nearest existing ancestor is not on a bpffs.
Status ensure_pin_dir(const std::string& dir);

}  // namespace ow::bpf
