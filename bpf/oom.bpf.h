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

/* A page_counter (usage in pages, max in pages) is at its limit: limited
 * (max below "effectively unlimited", PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE
 * on 64-bit) and usage within OW_LIMIT_SLACK_PAGES of max. */
static __always_inline bool counter_at_limit(long usage, unsigned long max)
{
	__u64 unlimited = page_size ? 0x7fffffffffffffffULL / page_size : 0;
	__u64 u = usage > 0 ? (__u64)usage : 0;

	if ((__u64)max >= unlimited)
		return false;
	return u + OW_LIMIT_SLACK_PAGES >= (__u64)max;
}

static __always_inline void set_limit(struct ow_oom_event *e, struct cgroup_subsys_state *css, long usage,
				      unsigned long max)
{
	e->limit_memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
	e->limit_usage_bytes = (usage > 0 ? (__u64)usage : 0) * page_size;
	e->limit_max_bytes = (__u64)max * page_size;
}

/* The memcg whose limit the allocation ran into. mark_victim does not pass
 * the OOM's memcg (oc->memcg), so this walks from @t's memcg (the charging
 * task's) up through css->parent, and takes the nearest memcg with a counter
 * at its limit: v1's memsw first (the kernel charges it before memory), then
 * memory. The root memcg (no parent) has no limit and ends the walk. None
 * found: limit_memcg_id stays 0, a global OOM. */
static __always_inline void fill_limit(struct ow_oom_event *e, struct task_struct *t)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css, *parent;
	bool v1;
	int i;

	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return;
	css = BPF_CORE_READ(t, cgroups, subsys[id]);
	if (!css)
		return;
	/* memory on a v1 hierarchy: the default (v2) one has hierarchy_id 0.
	 * On v2, memsw shares a union with swap and must not be read as memsw. */
	v1 = BPF_CORE_READ(css, cgroup, root, hierarchy_id) != 0;
	for (i = 0; i < OW_LIMIT_WALK_LEVELS; i++) {
		struct mem_cgroup *m;
		unsigned long max;
		long usage;

		parent = BPF_CORE_READ(css, parent);
		if (!parent)
			return; /* the root memcg */
		/* css is the first member of struct mem_cgroup; relocate its offset anyway */
		m = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
		if (v1 && bpf_core_field_exists(m->memsw)) {
			usage = BPF_CORE_READ(m, memsw.usage.counter);
			max = BPF_CORE_READ(m, memsw.max);
			if (counter_at_limit(usage, max)) {
				set_limit(e, css, usage, max);
				e->flags |= OW_OOM_LIMIT_MEMSW;
				return;
			}
		}
		usage = BPF_CORE_READ(m, memory.usage.counter);
		max = BPF_CORE_READ(m, memory.max);
		if (counter_at_limit(usage, max)) {
			set_limit(e, css, usage, max);
			return;
		}
		css = parent;
	}
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
	fill_limit(e, cur);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
