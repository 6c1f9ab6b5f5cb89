// How SEC("iter/cgroup") programs get their attach target, so that a load
// of the cgroup iterator alone need not parse the kernel's BTF.
//
// libbpf 1.1 parses the whole vmlinux BTF (~6 ms) at load for any tracing
// program, if only to look up the iterator's attach target, the BTF id of
// FUNC bpf_iter_cgroup. With the id known (core_btf's cache keeps it), the
// program's type is set to a placeholder before the load, so libbpf sees no
// tracing program, and a section handler of oomwatch's own for
// "iter/cgroup" puts the type back and hands the id to the kernel just
// before the program is loaded (libbpf_register_prog_handler's
// prog_prepare_load_fn). A program whose target libbpf resolved
// (bpf_program__set_attach_target) keeps it. The same handler turns the
// program's placeholder calls of bpf_rdonly_cast into kfunc calls
// (kfunc_call.hpp): every iter/cgroup program goes through it.
#pragma once
#include "util/result.hpp"

struct bpf_program;

namespace ow::bpf {

// Registers the handler, once per process; before any object with an
// iter/cgroup program is opened (objects opened earlier keep libbpf's own).
// Not thread-safe against a concurrent open: call it at start-up.
Status use_iter_cgroup_handler();

// The kernel's BTF id of FUNC bpf_iter_cgroup, for every program the handler
// loads whose target was not set otherwise. Unset, the handler finds it in
// the kernel's raw BTF itself (btf_raw.hpp).
void set_iter_cgroup_btf_id(int id);

// Keeps libbpf from parsing the kernel's BTF for `p` (see above); the
// handler must have been registered before `p`'s object was opened.
Status defer_iter_cgroup_target(bpf_program* p);

}  // namespace ow::bpf
