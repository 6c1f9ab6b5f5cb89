// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* oomwatch's BPF entry points. Thin by design: each SEC() calls a helper from
 * a bpf/ helper header. Userspace picks tp_btf or the raw_tp twin before load
 * (bpf_program__set_autoload) after probing the kernel's BTF; the test_*
 * programs are loaded only by the test suite and run under BPF_PROG_TEST_RUN. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "oom.bpf.h"
#include "snapshot.bpf.h"
#include "reclaim.bpf.h"
#include "bpfmem.bpf.h"
#include "births.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/mark_victim")
int BPF_PROG(oom_mark_victim_btf, __u64 arg0, __u64 arg1)
{
	return handle_mark_victim(arg0, arg1);
}

SEC("raw_tp/mark_victim")
int oom_mark_victim_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return handle_mark_victim(ctx->args[0], ctx->args[1]);
}

/* Test wrapper: runs the mark_victim logic with the calling task as victim,
 * so the suite can check every decoded field against /proc/self. */
SEC("raw_tp")
int test_mark_victim(struct bpf_raw_tracepoint_args *ctx)
{
	if (victim_arg_is_task)
		return handle_mark_victim(bpf_get_current_task(), ctx->args[0]);
	return handle_mark_victim(bpf_get_current_pid_tgid() & 0xffffffff, 0);
}

/* New cgroups under the managed roots (births.bpf.h). */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(births_mkdir_btf, struct cgroup *cgrp, const char *path)
{
	return handle_cgroup_mkdir(cgrp);
}

SEC("raw_tp/cgroup_mkdir")
int births_mkdir_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return handle_cgroup_mkdir((struct cgroup *)ctx->args[0]);
}

/* The loader picks one: snap_memcg where bpf_rdonly_cast() exists (6.2+),
 * snap_memcg_copy on 6.1 (see counter_fold in snapshot.bpf.h). */
SEC("iter/cgroup")
int snap_memcg(struct bpf_iter__cgroup *ctx)
{
	return snapshot_memcg(ctx->cgroup, true);
}

SEC("iter/cgroup")
int snap_memcg_copy(struct bpf_iter__cgroup *ctx)
{
	return snapshot_memcg(ctx->cgroup, false);
}

/* For the benchmark only (never loaded by the agent): the same walk with a
 * program that reads nothing, i.e. what the kernel's cgroup iterator costs by
 * itself, the floor under snap_memcg. */
__u32 floor_seen = 0;

SEC("iter/cgroup")
int snap_floor(struct bpf_iter__cgroup *ctx)
{
	if (ctx->cgroup)
		floor_seen++;
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(reclaim_begin_btf)
{
	return handle_reclaim_begin();
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int reclaim_begin_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return handle_reclaim_begin();
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(reclaim_end_btf, unsigned long nr_reclaimed)
{
	return handle_reclaim_end(nr_reclaimed);
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_end")
int reclaim_end_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return handle_reclaim_end(ctx->args[0]);
}

/* eBPF memory accounting (bpfmem.bpf.h): every map with its charged memcg,
 * and map creations / program loads as they happen. */
SEC("iter/bpf_map")
int bpfmem_dump_map(struct bpf_iter__bpf_map *ctx)
{
	return dump_bpf_map(ctx->meta->seq, ctx->map);
}

SEC("tp/syscalls/sys_enter_bpf")
int bpfmem_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_bpf_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_exit_bpf")
int bpfmem_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_bpf_exit(ctx->ret);
}
