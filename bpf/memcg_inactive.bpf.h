/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where a memcg's hierarchical inactive-file page count lives, per kernel:
 * for the snapshot programs (snapshot.bpf.h). */
#ifndef OOMWATCH_MEMCG_INACTIVE_BPF_H
#define OOMWATCH_MEMCG_INACTIVE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

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

#endif
