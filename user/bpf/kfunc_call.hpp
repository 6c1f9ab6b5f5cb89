// Kfunc calls without a typed __ksym extern.
//
// libbpf 1.1 parses the whole kernel BTF (~7 ms) at every load of an object
// with a typed kernel symbol, only to find the kfunc's BTF id. oomwatch's
// programs call their kfunc (bpf_rdonly_cast) as a placeholder helper number
// instead (OW_HELPER_RDONLY_CAST in bpf/oomwatch.h); just before a program is
// loaded, each such call becomes the kfunc call libbpf would have made:
// src_reg BPF_PSEUDO_KFUNC_CALL, imm the kernel's BTF id of the FUNC, off 0
// (vmlinux). The id comes from the BTF cache's meta or from a BTF oomwatch
// has already read; no id, and a program that calls it is refused before
// the kernel sees it.
#pragma once
#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/result.hpp"

struct bpf_program;

namespace ow::bpf {

// Rewrites the calls of helper number `placeholder` in `insns` into calls of
// the vmlinux kfunc with BTF id `kfunc_id`. Returns how many it rewrote;
// EINVAL for a kfunc_id <= 0 when there is one to rewrite. Pure.
Result<size_t> patch_kfunc_calls(std::vector<bpf_insn>& insns, int32_t placeholder, int kfunc_id);

// The kernel's BTF id of FUNC bpf_rdonly_cast for every program loaded after
// this (0: the kernel has none, or it is not known).
void set_rdonly_cast_btf_id(int id);

// From a libbpf prog_prepare_load_fn: patches `prog`'s calls of
// bpf_rdonly_cast with the id set above (bpf_program__set_insns). Returns
// 0, or a negative errno libbpf fails the load with.
int patch_rdonly_cast(bpf_program* prog);

}  // namespace ow::bpf
