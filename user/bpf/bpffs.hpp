// Pin directories on a bpf filesystem. The only mount oomwatch ever makes is
// bpffs at /sys/fs/bpf, and only when a pin is asked for under it and it is
// not mounted yet (docs/safety.md); a pin directory anywhere else must already
// be on a bpffs, and nothing is created when it is not.
#pragma once
#include <string>
#include <vector>

#include "util/result.hpp"

namespace ow::bpf {

constexpr long kBpfFsMagic = 0xcafe4a11;
// Where bpffs is mounted, and where oomwatch pins its maps unless told otherwise.
inline constexpr const char* kBpfFsRoot = "/sys/fs/bpf";
inline constexpr const char* kDefaultPinDir = "/sys/fs/bpf/oomwatch";

bool on_bpffs(const std::string& path);
// Whether `dir` can hold pins, changing nothing: dir (or its nearest
// existing ancestor) is on a bpffs, or dir is under /sys/fs/bpf where bpffs
// is not mounted yet (ensure_pin_dir mounts it). The error is one line with
// the fix: mount bpffs there, or pick a dir under /sys/fs/bpf. The agent
// calls it before it loads any BPF program.
Status check_pin_dir(const std::string& dir);
// Makes `dir` (0700) for pins, mounting bpffs at /sys/fs/bpf first when dir
// is under it and it is not one yet. An error, before anything is created,
// when check_pin_dir refuses dir. `created` gets the dirs it made, parents
// first, so that exactly those can be removed again.
Status ensure_pin_dir(const std::string& dir, std::vector<std::string>* created = nullptr);

}  // namespace ow::bpf
