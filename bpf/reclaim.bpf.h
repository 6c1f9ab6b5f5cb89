/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Memcg direct-reclaim stalls: the earliest in-kernel sign that a cgroup is at
 * its limit. mm_vmscan_memcg_reclaim_begin/end fire in the charging task, so
 * the start time is kept per task and the stall is charged to that task's
 * memory cgroup. Cheap: these fire only when a cgroup is reclaiming at its
 * limit, never per page (unlike the memcg stat tracepoints, measured at ~10 %
 * of a page-fault loop even with an empty program: docs/architecture.md). */
#ifndef OOMWATCH_RECLAIM_BPF_H
#define OOMWATCH_RECLAIM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "oomwatch.h"
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, __u64); /* begin ts */
} reclaim_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* memory cgroup id */
	__type(value, struct ow_reclaim_stat);
} reclaim_stalls SEC(".maps");

static __always_inline int handle_reclaim_begin(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&reclaim_start, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int handle_reclaim_end(__u64 nr_reclaimed)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ow_reclaim_stat *st, zero = {};
	__u64 *start, now, d, id;

	start = bpf_map_lookup_elem(&reclaim_start, &tid);
	if (!start)
		return 0;
	now = bpf_ktime_get_ns();
	d = now - *start;
	bpf_map_delete_elem(&reclaim_start, &tid);
	id = task_memcg_id((struct task_struct *)bpf_get_current_task());
	st = bpf_map_lookup_elem(&reclaim_stalls, &id);
	if (!st) {
		bpf_map_update_elem(&reclaim_stalls, &id, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&reclaim_stalls, &id);
		if (!st)
			return 0;
	}
	__sync_fetch_and_add(&st->count, 1);
	__sync_fetch_and_add(&st->total_ns, d);
	__sync_fetch_and_add(&st->reclaimed_pages, nr_reclaimed);
	if (d > st->max_ns)
		st->max_ns = d; /* racy max: good enough for a diagnostic figure */
	st->last_ns = now;
	return 0;
}

#endif
