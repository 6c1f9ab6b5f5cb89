/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* OOM-kill event logic, shared by the tp_btf and raw_tp entry points and the
 * BPF_PROG_TEST_RUN wrapper. Everything is read with CO-RE so one object loads
 * on every kernel with BTF; layout differences are handled by flavors below. */
#ifndef OOMWATCH_OOM_BPF_H
#define OOMWATCH_OOM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "oomwatch.h"
#include "common.bpf.h"

/* Before 6.2 (commit f1a7941243c1 "mm: convert mm's rss stats into
 * percpu_counter") rss counters were atomics inside struct mm_rss_stat. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};
struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};
struct mm_struct___new {
	struct percpu_counter rss_stat[4];
};

/* Set by userspace before load, from the BTF of btf_trace_mark_victim:
 * since 6.8 the tracepoint passes (struct task_struct *, uid_t); before, an int pid. */
const volatile bool victim_arg_is_task = true;

static __always_inline __u64 mm_counter_pages(struct mm_struct *mm, int idx)
{
	long v;

	if (bpf_core_field_exists(struct mm_struct___new, rss_stat)) {
		/* the same approximation the kernel's get_mm_counter() returns */
		struct mm_struct___new *m = (void *)mm;
		v = BPF_CORE_READ(m, rss_stat[idx].count);
	} else {
		struct mm_struct___old *m = (void *)mm;
		v = BPF_CORE_READ(m, rss_stat.count[idx].counter);
	}
	return v > 0 ? (__u64)v : 0;
}

static __always_inline void fill_victim(struct ow_oom_event *e, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	__u64 page = 4096; /* x86 and arm64 default; exact per-arch size is not needed for MiB-scale figures */

	e->pid = BPF_CORE_READ(t, pid);
	e->tgid = BPF_CORE_READ(t, tgid);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), &t->comm);
	e->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
	e->memcg_id = task_memcg_id(t);
	if (!mm) {
		e->flags |= OW_OOM_NO_MM;
		return;
	}
	e->total_vm_bytes = (__u64)BPF_CORE_READ(mm, total_vm) * page;
	/* MM_FILEPAGES=0, MM_ANONPAGES=1, MM_SHMEMPAGES=3: stable since 4.5 and
	 * declared in an anonymous enum, so there is no name to relocate against */
	e->anon_rss_bytes = mm_counter_pages(mm, 1) * page;
	e->file_rss_bytes = mm_counter_pages(mm, 0) * page;
	e->shmem_rss_bytes = mm_counter_pages(mm, 3) * page;
	if (bpf_core_field_exists(mm->pgtables_bytes))
		e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
}

/* arg0: the victim task pointer (or its pid on old kernels); arg1: uid (new kernels). */
static __always_inline int handle_mark_victim(__u64 arg0, __u64 arg1)
{
	struct task_struct *cur = (void *)bpf_get_current_task();
	struct ow_oom_event *e;

	stat_inc(OW_STAT_OOM_EVENTS);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(OW_STAT_RB_DROPS);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = OW_EV_OOM_KILL;
	e->ts_ns = bpf_ktime_get_ns();
	if (victim_arg_is_task) {
		fill_victim(e, (struct task_struct *)arg0);
		e->uid = (__u32)arg1;
	} else {
		e->pid = e->tgid = (__u32)arg0;
		e->flags |= OW_OOM_PID_ONLY;
	}
	e->trigger_pid = (__u32)bpf_get_current_pid_tgid();
	e->trigger_tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	e->trigger_memcg_id = task_memcg_id(cur);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
