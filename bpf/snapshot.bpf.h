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

/* Cost: each bpf_probe_read_kernel() is a helper call through
 * copy_from_kernel_nofault(), about as dear as the whole rest of the record, so
 * the program reads a memcg in four copies instead of one per field: both page
 * counters (memory, then swap or memsw, adjacent in struct mem_cgroup) in one,
 * memory_events[] in one, the vmstats pointer and its inactive-file slot. The
 * struct cgroup fields are plain loads: the iterator hands the program a
 * trusted BTF pointer. Every offset is a CO-RE relocation, so the copies are
 * laid out as the running kernel lays them out, whatever vmlinux.h says. */
#define OW_SNAP_SCRATCH 1024
static __u8 snap_scratch[OW_SNAP_SCRATCH]; /* one walker per object, like snap_recs */

static __always_inline __u64 scratch_u64(__u32 off)
{
	if (off > OW_SNAP_SCRATCH - 8)
		return 0;
	return *(__u64 *)(snap_scratch + off);
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

/* Both page counters of @m into snap_scratch; their offsets in it via @mem_at
 * and @swap_at. False when they do not fit (a layout this program never met). */
static __always_inline bool read_counters(struct mem_cgroup *m, __u32 *mem_at, __u32 *swap_at)
{
	__u32 pc = bpf_core_type_size(struct page_counter);
	__u32 mem = bpf_core_field_offset(struct mem_cgroup, memory);
	__u32 swp = memcg_v1 ? bpf_core_field_offset(struct mem_cgroup, memsw) :
			       bpf_core_field_offset(struct mem_cgroup, swap);
	__u32 lo = mem < swp ? mem : swp;
	__u32 hi = (mem > swp ? mem : swp) + pc;

	if (hi - lo > OW_SNAP_SCRATCH || pc > OW_SNAP_SCRATCH)
		return false;
	if (bpf_probe_read_kernel(snap_scratch, hi - lo, (void *)m + lo))
		return false;
	*mem_at = mem - lo;
	*swap_at = swp - lo;
	return true;
}

static __always_inline __u64 ev_at(const __u64 *ev, long i)
{
	return i >= 0 && i < 9 ? ev[i] : 0;
}

#define PC_FIELD(at, f) scratch_u64((at) + bpf_core_field_offset(struct page_counter, f))

static __always_inline void fill_memcg(struct ow_memcg_rec *r, struct cgroup *cg, struct mem_cgroup *m)
{
	__u64 ev[9] = {};
	__u32 mem_at = 0, swap_at = 0, evn;
	long inactive = 0;

	r->cgroup_id = cg->kn->id;
	r->level = cg->level - snap_root_level;
	if (read_counters(m, &mem_at, &swap_at)) {
		r->usage_bytes = pages(PC_FIELD(mem_at, usage));
		r->limit_bytes = pages(PC_FIELD(mem_at, max));
		r->high_bytes = pages(PC_FIELD(mem_at, high));
		r->peak_bytes = pages(PC_FIELD(mem_at, watermark));
		r->failcnt = PC_FIELD(mem_at, failcnt);
		__u64 other = pages(PC_FIELD(swap_at, usage));
		if (memcg_v1)
			r->swap_bytes = other > r->usage_bytes ? other - r->usage_bytes : 0;
		else
			r->swap_bytes = other;
	} else {
		r->usage_bytes = pages(BPF_CORE_READ(m, memory.usage.counter));
		r->limit_bytes = pages(BPF_CORE_READ(m, memory.max));
		r->high_bytes = pages(BPF_CORE_READ(m, memory.high));
		r->peak_bytes = pages(BPF_CORE_READ(m, memory.watermark));
		r->failcnt = BPF_CORE_READ(m, memory.failcnt);
		r->swap_bytes = 0;
	}
	evn = bpf_core_field_size(struct mem_cgroup, memory_events);
	if (evn > sizeof(ev))
		evn = sizeof(ev);
	bpf_probe_read_kernel(ev, evn, (void *)m + bpf_core_field_offset(struct mem_cgroup, memory_events));
	r->ev_low = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_LOW));
	r->ev_high = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_HIGH));
	r->ev_max = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX));
	r->ev_oom = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM));
	r->ev_oom_kill = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL));
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
	css = cg->subsys[id];
	if (!css)
		return 0; /* no memcg here (controller not enabled): skip, keep walking */
	/* Removed cgroups stay on the walk until their last reference goes (dying
	 * memcgs can linger for minutes); they have no path any more, skip them.
	 * CSS_ONLINE (1 << 1) sits in an anonymous enum, unchanged since 3.x. */
	if (!(css->flags & 2))
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
