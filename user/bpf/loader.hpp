// Opens, configures, loads and attaches oomwatch's one BPF skeleton.
// Each hook is probed first and gets tp_btf, else its raw_tp twin, else is
// skipped with a warning when optional. Destroying the Loader detaches all.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "oomwatch.h"
#include "util/fd.hpp"
#include "util/noncopyable.hpp"
#include "util/result.hpp"

struct oomwatch_bpf;
struct bpf_program;

namespace ow::bpf {

struct HookStatus {
  std::string tracepoint;  // "mark_victim"
  std::string mode;        // "tp_btf", "raw_tp", "skipped"
  bool attached = false;
  std::string error;        // why a flavor was refused / skipped
  std::string consequence;  // what the operator loses when skipped
};

struct LoaderOptions {
  bool oom_events = true;
  bool test_programs = false;  // load the test_* wrappers for BPF_PROG_TEST_RUN
  bool snapshots = false;      // the iter/cgroup memcg snapshot program, if the kernel has it
  uint32_t snap_cap = 16384;   // records per walk segment (128 B each, and a 24 B slot: 2.4 MiB)
  bool memcg_v1 = false;       // memory controller on cgroup v1 (swap = memsw - memory)
  bool snap_copy = false;      // the snapshot program that copies (6.1's) on any kernel: tests run both
  bool reclaim = false;        // memcg reclaim stall accounting (optional hooks)
  bool bpfmem = false;         // iter/bpf_map: every map with the memcg it is charged to (5.8+)
  bool births = false;         // cgroup_mkdir: new cgroups under the roots in `birth_roots`, into `births`
  bool bpfmem_events = false;  // tp/syscalls/sys_{enter,exit}_bpf: map creations and program loads as
                               // they happen, into the bpf_obj_events ring (mounts tracefs if needed)
  // Where the CO-RE subset of the kernel's BTF is cached (bpf/core_btf.hpp;
  // "": no cache). Used by loaders of snapshots alone, which then parse no
  // kernel BTF at all once the cache is there.
  std::string btf_cache_dir;
};

class Loader : NonCopyable {
 public:
  static Result<std::unique_ptr<Loader>> open(const LoaderOptions& opts);
  ~Loader();

  oomwatch_bpf* skel() const { return skel_; }
  const std::vector<HookStatus>& hooks() const { return hooks_; }
  int events_fd() const;
  // Sum over CPUs of the per-CPU counter `s`.
  uint64_t stat(ow_stat s) const;
  bool victim_arg_is_task() const { return victim_arg_is_task_; }
  // The iter/cgroup program was loaded (kernel 6.1+ with BTF).
  bool snapshots_loaded() const { return snapshots_loaded_; }
  // The snapshot program loaded (plain loads on 6.2+, copies on 6.1), to attach.
  bpf_program* snap_prog() const { return snap_prog_; }
  // Loaded against the cached cut-down BTF (LoaderOptions::btf_cache_dir).
  bool core_btf_cached() const { return core_btf_cached_; }
  // Reclaim stalls per memory cgroup id (empty when the hooks are not loaded).
  std::map<uint64_t, ow_reclaim_stat> reclaim_stats() const;
  // The stall figures of one memory cgroup id (nullopt: none recorded).
  std::optional<ow_reclaim_stat> reclaim_stat(uint64_t memcg_id) const;
  // Pins the maps operators inspect with bpftool under `dir` (bpf/bpffs.hpp:
  // bpffs is mounted at /sys/fs/bpf only for a dir under it); unpin_maps()
  // removes them again, with the dirs pin_maps made for them (and no other).
  Status pin_maps(const std::string& dir);
  void unpin_maps();
  uint32_t snap_cap() const { return snap_cap_; }
  // The iter/bpf_map program was loaded (attach it with bpf_program__attach_iter).
  bool bpfmem_loaded() const { return bpfmem_loaded_; }
  // The cgroup_mkdir hook is attached: births_fd() is the `births` ring,
  // birth_roots_fd() the map of watched roots.
  bool births_attached() const;
  int births_fd() const;
  int birth_roots_fd() const;

 private:
  Loader() = default;
  // probe_iter: look the cgroup iterator up in the kernel BTF before asking
  // for it (else it is assumed, and a kernel without it fails the load).
  // use_cache: with opts.btf_cache_dir, load a snapshots-only object against
  // the cached CO-RE BTF and the iterator's cached attach target.
  static Result<std::unique_ptr<Loader>> open_once(const LoaderOptions& opts, bool probe_iter, bool use_cache);
  oomwatch_bpf* skel_ = nullptr;
  std::vector<Link> links_;
  std::vector<HookStatus> hooks_;
  bool victim_arg_is_task_ = true;
  bool snapshots_loaded_ = false;
  bpf_program* snap_prog_ = nullptr;
  bool core_btf_cached_ = false;
  uint32_t snap_cap_ = 0;
  bool bpfmem_loaded_ = false;
  std::vector<std::string> pinned_;
  std::vector<std::string> pin_dirs_made_;  // by pin_maps, parents first
};

}  // namespace ow::bpf
