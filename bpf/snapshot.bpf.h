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

static __always_inline void fill_memcg(struct ow_memcg_rec *r, struct cgroup *cg, struct mem_cgroup *m)
{
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
