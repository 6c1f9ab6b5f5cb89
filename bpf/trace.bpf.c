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

SEC("tp_btf/mod_memcg_state")
int BPF_PROG(owt_state_btf, struct mem_cgroup *memcg, int item, int val)
{
	return handle_memcg_stat(memcg, item, val, true);
}

SEC("raw_tp/mod_memcg_state")
int owt_state_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return handle_memcg_stat((struct mem_cgroup *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2], false);
}

SEC("tp_btf/mod_memcg_lruvec_state")
int BPF_PROG(owt_lruvec_btf, struct mem_cgroup *memcg, int item, int val)
{
	return handle_memcg_stat(memcg, item, val, true);
}

SEC("raw_tp/mod_memcg_lruvec_state")
int owt_lruvec_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return handle_memcg_stat((struct mem_cgroup *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2], false);
}

SEC("iter/cgroup")
int owt_level(struct bpf_iter__cgroup *ctx)
{
	return learn_target_level(ctx->cgroup);
}
