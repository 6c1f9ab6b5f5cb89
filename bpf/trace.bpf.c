// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The entry points of `oomwatch trace`, a separate object from the agent's:
 * tp_btf on the memcg stat tracepoints, raw_tp twins for kernels that refuse
 * tp_btf. Userspace switches off (bpf_program__set_autoload) the flavor not
 * used and every program whose tracepoint this kernel lacks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "trace.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Both flavors of one memcg stat tracepoint: the tp_btf program reads its
 * BTF-typed arguments directly, the raw_tp twin from the raw argument array. */
#define TRACE_STAT_PROGS(tp, btf_prog, raw_prog)                                                   \
	SEC("tp_btf/" #tp)                                                                         \
	int BPF_PROG(btf_prog, struct mem_cgroup *memcg, int item, int val)                        \
	{                                                                                          \
		return handle_memcg_stat(memcg, item, val, true);                                  \
	}                                                                                          \
	SEC("raw_tp/" #tp)                                                                         \
	int raw_prog(struct bpf_raw_tracepoint_args *ctx)                                          \
	{                                                                                          \
		return handle_memcg_stat((struct mem_cgroup *)ctx->args[0], (int)ctx->args[1],     \
					 (int)ctx->args[2], false);                                \
	}

TRACE_STAT_PROGS(mod_memcg_state, owt_state_btf, owt_state_raw)
TRACE_STAT_PROGS(mod_memcg_lruvec_state, owt_lruvec_btf, owt_lruvec_raw)

SEC("iter/cgroup")
int owt_level(struct bpf_iter__cgroup *ctx)
{
	return learn_target_level(ctx->cgroup);
}
