// Publishes GOMEMLIMIT hints where Go programs (tools/go/gomemlimit) and
// operators read them:
//   1. xattr `user.oomwatch.gomemlimit` on the cgroup directory, decimal bytes;
//   2. file <hint_dir>/<cgroup id>, decimal bytes + newline, replaced
//      atomically (temp file + rename), so a reader never sees half a value;
//   3. the hash map `gomemlimit_hints` (cgroup id -> struct ow_gomemlimit_hint),
//      pinned with BTF at <pin_path> so `bpftool map dump pinned` prints it.
// The map is created from oomwatch's BPF object (for its BTF) the first time
// and reused from the pin afterwards, by the daemon and one-shot commands alike.
// Each place is tried independently; the report says which worked.
// Not thread-safe.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "bpf/bpffs.hpp"
#include "gomemlimit/calc.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/result.hpp"

namespace ow::gomemlimit {

// The hint files' directory in an agent's state directory, and the hint
// map's pin in its pin directory.
inline std::string hint_dir_in(const std::string& state_dir) { return state_dir + "/gomemlimit"; }
inline std::string hint_pin_in(const std::string& pin_dir) { return pin_dir + "/gomemlimit"; }
// Where hint files go unless told otherwise, and where `top` looks for them:
// hint_dir_in(kDefaultStateDir), spelt out for the flags' help texts.
inline constexpr const char* kDefaultHintDir = "/run/oomwatch/gomemlimit";
static_assert(std::string_view(kDefaultHintDir).starts_with(kDefaultStateDir));

struct PublishOptions {
  std::string xattr_name = "user.oomwatch.gomemlimit";
  std::string hint_dir = kDefaultHintDir;
  std::string pin_path = hint_pin_in(bpf::kDefaultPinDir);
  // unpublish() unpins the map once it is empty (one-shot commands). A
  // daemon keeps its pin until shutdown(): it publishes again on its next
  // round, into the same map, which must still be visible to bpftool.
  bool unpin_when_empty = true;
};

struct Target {
  std::string cgroup_dir;  // absolute cgroupfs directory
  uint64_t cgroup_id = 0;  // its inode == the kernel's cgroup id
};

struct PublishReport {
  Status xattr, file, map;
  bool all_ok() const { return xattr.ok() && file.ok() && map.ok(); }
  bool any_ok() const { return xattr.ok() || file.ok() || map.ok(); }
  // "xattr: ...; file: ..." for the places that failed ("" when none did)
  std::string failures() const;
};

class Publisher {
 public:
  // Opens the pinned map, or (create == true) creates and pins it, mounting
  // bpffs at /sys/fs/bpf when needed. A pin of another shape (an older
  // oomwatch) is replaced. create == false and no pin: map operations no-op.
  static Result<std::unique_ptr<Publisher>> open(const PublishOptions& opts = {}, bool create = true);
  ~Publisher() = default;  // leaves the pin and the published hints in place

  PublishReport publish(const Target& t, const Breakdown& b);
  // For a value the xattr and the file already carry: updates only the map
  // entry (its ts_ns says the hint was confirmed now), so a daemon's periodic
  // round rewrites no file for an unchanged hint. xattr and file are reported
  // ok, untouched.
  PublishReport confirm(const Target& t, const Breakdown& b);
  // Removes the hint from all three places (absent is fine); when the map is
  // left empty and options().unpin_when_empty, unpins it (and removes the
  // pin's directory if empty).
  PublishReport unpublish(const Target& t);
  // Clean shutdown of the daemon: unpublishes every hint this Publisher
  // published, then unpins the map whatever it still holds.
  Status shutdown();

  int map_fd() const { return map_.get(); }
  const PublishOptions& options() const { return opts_; }

 private:
  Publisher() = default;
  Status unpin_if_empty();
  Status update_map(const Target& t, const Breakdown& b);
  PublishOptions opts_;
  UniqueFd map_;
  std::map<uint64_t, Target> published_;
};

}  // namespace ow::gomemlimit
