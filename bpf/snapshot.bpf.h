/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Memcg snapshots from an iter/cgroup walk.
 *
 * One walk's seq_file output ends at 32 KiB (a prototype printing records got
 * 819 of 1001 cgroups), so records go into an mmapable array instead and the
 * walk prints nothing. The array holds snap_cap records; a hierarchy larger
 * than that is read in segments: userspace sets snap_skip and walks again,
 * and snap_seen (every memcg visited) proves no cgroup was missed. */
#ifndef OOMWATCH_SNAPSHOT_BPF_H
#define OOMWATCH_SNAPSHOT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "oomwatch.h"
#include "common.bpf.h"

const volatile __u32 snap_cap = 1; /* max_entries of snap_recs, set before load */
const volatile bool memcg_v1 = false; /* v1: swap is memsw minus memory */

__u32 snap_skip = 0; /* records to skip (segmented walks), set by userspace */
__u32 snap_seen = 0; /* memcgs visited by this walk */
__u32 snap_written = 0; /* records stored by this walk */
__u32 snap_root_level = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* resized by userspace before load */
	__type(key, __u32);
	__type(value, struct ow_memcg_rec);
} snap_recs SEC(".maps");

static __always_inline __u64 pages(long v)
{
	return v > 0 ? (__u64)v * page_size : 0;
}

static __always_inline __u64 memcg_event(struct mem_cgroup *m, int ev)
{
	if (ev < 0 || ev >= 9)
		return 0;
	return BPF_CORE_READ(m, memory_events[ev].counter);
}

/* ---- the memcg's hierarchical inactive-file page count ----
 *
 * What memory.stat prints as total_inactive_file (v1) / inactive_file (v2):
 * memcg_page_state(memcg, NR_INACTIVE_FILE), i.e. memcg->vmstats->state[i],
 * the aggregate over CPUs and the whole subtree. Layouts, told apart with CO-RE:
 *
 *   6.1+     struct memcg_vmstats *vmstats, a pointer. The cgroup iterator is
 *            6.1+ too (both came in the same merge window), so this is the
 *            only layout the program meets; the embedded struct of 5.13-6.0
 *            (or anything else) sets OW_MEMCG_NO_INACTIVE_FILE instead.
 *   6.11+    state[] is compacted (MEMCG_VMSTAT_SIZE entries, fewer than
 *            MEMCG_NR_STAT): the index is node_stat_item's position in the
 *            kernel's static memcg_node_stat_items[], which is neither in BTF
 *            nor in kallsyms. That table opens with the five LRU counters in
 *            node_stat_item order (NR_INACTIVE_ANON, NR_ACTIVE_ANON,
 *            NR_INACTIVE_FILE, ...) since its introduction in 6.11, so the
 *            index is NR_INACTIVE_FILE - NR_INACTIVE_ANON. Userspace checks
 *            the figure against memory.stat at its first walk
 *            (user/sampler/bpf_source.cpp) and falls back to memory.stat.
 *   6.1-6.10 state[] has MEMCG_NR_STAT entries indexed by the item itself.
 *
 * With OW_MEMCG_NO_INACTIVE_FILE userspace reads memory.stat for the field.
 *
 * Lag: updates are batched per CPU and folded into vmstats->state only by an
 * rstat flush: the periodic one (every 2 s, all memcgs) or a reader's
 * (memory.stat flushes when more than MEMCG_CHARGE_BATCH * online CPUs page
 * updates are pending in the subtree). This program cannot flush, and a walk
 * alone trails page-cache growth by up to the last 2 s of it (measured: 60 MiB
 * written in 1 s, not yet counted). So userspace reads the walk root's
 * memory.stat before each walk, which leaves less than
 * 2 * MEMCG_CHARGE_BATCH (64) * online CPUs pages unfolded in any memcg under
 * it: the accuracy memory.stat itself has. */

/* Index of NR_INACTIVE_FILE in memcg_vmstats.state[], or -1 when unknown.
 * CO-RE constants only: the compiler folds it into immediates. */
static __always_inline long inactive_file_index(void)
{
	long n, item, nr_stat;

	if (!bpf_core_field_exists(struct memcg_vmstats, state) ||
	    !bpf_core_enum_value_exists(enum node_stat_item, NR_INACTIVE_FILE) ||
	    !bpf_core_enum_value_exists(enum node_stat_item, NR_INACTIVE_ANON) ||
	    !bpf_core_enum_value_exists(enum memcg_stat_item, MEMCG_NR_STAT))
		return -1;
	n = bpf_core_field_size(struct memcg_vmstats, state) / sizeof(long);
	item = bpf_core_enum_value(enum node_stat_item, NR_INACTIVE_FILE);
	nr_stat = bpf_core_enum_value(enum memcg_stat_item, MEMCG_NR_STAT);
	if (n < nr_stat) /* 6.11+: compacted */
		item -= bpf_core_enum_value(enum node_stat_item, NR_INACTIVE_ANON);
	return item >= 0 && item < n ? item : -1;
}

/* Hierarchical inactive file pages of @m; false when this layout is unknown. */
static __always_inline bool memcg_inactive_file(struct mem_cgroup *m, long *pages_out)
{
	long idx = inactive_file_index();
	struct memcg_vmstats *vs;
	long v = 0;

	if (idx < 0 || !bpf_core_field_exists(struct mem_cgroup, vmstats) ||
	    bpf_core_field_size(struct mem_cgroup, vmstats) != sizeof(void *))
		return false;
	vs = BPF_CORE_READ(m, vmstats);
	if (!vs)
		return false;
	if (bpf_probe_read_kernel(&v, sizeof(v),
				  (void *)vs + bpf_core_field_offset(struct memcg_vmstats, state) + idx * sizeof(long)))
		return false;
	*pages_out = v; /* may be transiently negative (per-CPU batching): pages() floors it */
	return true;
}

static __always_inline void fill_memcg(struct ow_memcg_rec *r, struct cgroup *cg, struct mem_cgroup *m)
{
	long inactive = 0;

	r->cgroup_id = BPF_CORE_READ(cg, kn, id);
	r->level = BPF_CORE_READ(cg, level) - snap_root_level;
	r->usage_bytes = pages(BPF_CORE_READ(m, memory.usage.counter));
	r->limit_bytes = pages(BPF_CORE_READ(m, memory.max));
	r->high_bytes = pages(BPF_CORE_READ(m, memory.high));
	r->peak_bytes = pages(BPF_CORE_READ(m, memory.watermark));
	r->failcnt = BPF_CORE_READ(m, memory.failcnt);
	if (memcg_v1) {
		__u64 memsw = pages(BPF_CORE_READ(m, memsw.usage.counter));
		r->swap_bytes = memsw > r->usage_bytes ? memsw - r->usage_bytes : 0;
	} else {
		r->swap_bytes = pages(BPF_CORE_READ(m, swap.usage.counter));
	}
	r->ev_low = memcg_event(m, bpf_core_enum_value(enum memcg_memory_event, MEMCG_LOW));
	r->ev_high = memcg_event(m, bpf_core_enum_value(enum memcg_memory_event, MEMCG_HIGH));
	r->ev_max = memcg_event(m, bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX));
	r->ev_oom = memcg_event(m, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM));
	r->ev_oom_kill = memcg_event(m, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL));
	if (memcg_inactive_file(m, &inactive)) {
		r->flags = 0;
		r->inactive_file_bytes = pages(inactive);
		r->working_set_bytes = r->usage_bytes > r->inactive_file_bytes ?
					       r->usage_bytes - r->inactive_file_bytes : 0;
	} else {
		r->flags = OW_MEMCG_NO_INACTIVE_FILE;
		r->inactive_file_bytes = 0;
		r->working_set_bytes = 0;
	}
}

static __always_inline int snapshot_memcg(struct cgroup *cg)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	struct ow_memcg_rec *r;
	__u32 idx;

	if (!cg) { /* end of the walk */
		stat_inc(OW_STAT_SNAP_WALKS);
		return 0;
	}
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 1;
	css = BPF_CORE_READ(cg, subsys[id]);
	if (!css)
		return 0; /* no memcg here (controller not enabled): skip, keep walking */
	/* Removed cgroups stay on the walk until their last reference goes (dying
	 * memcgs can linger for minutes); they have no path any more, skip them.
	 * CSS_ONLINE (1 << 1) sits in an anonymous enum, unchanged since 3.x. */
	if (!(BPF_CORE_READ(css, flags) & 2))
		return 0;
	idx = snap_seen++;
	if (idx < snap_skip)
		return 0;
	idx -= snap_skip;
	if (idx >= snap_cap)
		return 0; /* keep counting: userspace walks again from snap_skip + snap_cap */
	r = bpf_map_lookup_elem(&snap_recs, &idx);
	if (!r)
		return 0;
	/* css is the first member of struct mem_cgroup; relocate its offset anyway */
	fill_memcg(r, cg, (void *)css - bpf_core_field_offset(struct mem_cgroup, css));
	snap_written++;
	return 0;
}

#endif
