/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Charge tracing: every change of a memcg stat item the kernel reports on the
 * mod_memcg_state / mod_memcg_lruvec_state tracepoints (6.13+), kept when the
 * memcg is in the target cgroup's subtree, summed per process (tgid) and kind.
 * Its own object (trace.bpf.c): the agent's object never carries these
 * programs, which slow every page fault on the node while attached. */
#ifndef OOMWATCH_TRACE_BPF_H
#define OOMWATCH_TRACE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "oomwatch.h"

/* Set by userspace before load: the target cgroup's kernfs id (the inode of
 * its directory in the memory controller's hierarchy, v1 or v2). */
const volatile __u64 target_cgroup_id = 0;
const volatile __u64 page_size = 4096;
/* The target's depth below its hierarchy's true root, written by the
 * iter/cgroup program run once on the target before the tracepoints are
 * attached: a path seen from inside a cgroup namespace would give a wrong
 * depth. -1 until then (nothing is counted). */
__s32 target_level = -1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, OW_TRACE_MAX_PROCS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* per-CPU memory only for processes seen */
	__type(key, __u32);
	__type(value, struct ow_trace_proc);
} trace_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OW_TRACE_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} trace_stats SEC(".maps");

static __always_inline void trace_stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&trace_stats, &idx);

	if (v)
		*v += 1;
}

/* The kind of a stat item, or -1 for items not traced. Item numbers differ
 * between kernels (and configs), so they come from the running kernel's BTF.
 * memcg_stat_item values start after the node_stat_item ones: one item
 * number space serves both tracepoints. */
#define TRACE_ITEM_IS(item, type, name) \
	(bpf_core_enum_value_exists(enum type, name) && (item) == bpf_core_enum_value(enum type, name))

static __always_inline int trace_item_kind(int item)
{
	if (TRACE_ITEM_IS(item, node_stat_item, NR_ANON_MAPPED))
		return OW_TRACE_ANON;
	if (TRACE_ITEM_IS(item, node_stat_item, NR_FILE_PAGES))
		return OW_TRACE_FILE_PAGES;
	if (TRACE_ITEM_IS(item, node_stat_item, NR_SHMEM))
		return OW_TRACE_SHMEM;
	if (TRACE_ITEM_IS(item, memcg_stat_item, MEMCG_KMEM))
		return OW_TRACE_KERNEL;
	if (TRACE_ITEM_IS(item, node_stat_item, NR_SLAB_RECLAIMABLE_B) ||
	    TRACE_ITEM_IS(item, node_stat_item, NR_SLAB_UNRECLAIMABLE_B))
		return OW_TRACE_SLAB;
	return -1;
}

/* Whether @memcg is the target or below it: from the memcg's depth, walk up
 * exactly (level - target_level) css parents and compare that ancestor's id.
 * Shallower memcgs (most of a node's events when tracing a leaf) cost one
 * read. Works on v1 and v2: css.parent stays in the memory hierarchy.
 * @direct: tp_btf, whose BTF-typed pointers are read with plain loads
 * (cheaper than a bpf_probe_read_kernel call each, on a path that runs for
 * every charge of the node); raw_tp reads through BPF_CORE_READ. */
#define TRACE_IN_TARGET(name, READ)                                                   \
static __always_inline bool name(struct mem_cgroup *memcg)                            \
{                                                                                     \
	struct cgroup_subsys_state *css;                                              \
	int level, steps, i;                                                          \
                                                                                      \
	if (!memcg)                                                                   \
		return false;                                                         \
	css = &memcg->css;                                                            \
	level = READ(css, cgroup, level);                                             \
	if (target_level < 0)                                                         \
		return false;                                                         \
	steps = level - target_level;                                                 \
	if (steps < 0)                                                                \
		return false;                                                         \
	if (steps >= OW_TRACE_WALK_LEVELS) {                                          \
		trace_stat_inc(OW_TRACE_STAT_DEEP);                                   \
		return false;                                                         \
	}                                                                             \
	for (i = 0; i < OW_TRACE_WALK_LEVELS; i++) {                                  \
		if (i >= steps || !css)                                               \
			break;                                                        \
		css = READ(css, parent);                                              \
	}                                                                             \
	return css && READ(css, cgroup, kn, id) == target_cgroup_id;                  \
}

#define TRACE_DIRECT_READ2(p, a) ((p)->a)
#define TRACE_DIRECT_READ3(p, a, b) ((p)->a->b)
#define TRACE_DIRECT_READ4(p, a, b, c) ((p)->a->b->c)
#define TRACE_DIRECT_PICK(_1, _2, _3, _4, NAME, ...) NAME
#define TRACE_DIRECT_READ(...) \
	TRACE_DIRECT_PICK(__VA_ARGS__, TRACE_DIRECT_READ4, TRACE_DIRECT_READ3, TRACE_DIRECT_READ2)(__VA_ARGS__)

TRACE_IN_TARGET(trace_in_target_direct, TRACE_DIRECT_READ)
TRACE_IN_TARGET(trace_in_target_probe, BPF_CORE_READ)

/* iter/cgroup on the target alone (BPF_CGROUP_ITER_SELF_ONLY): its depth. */
static __always_inline int learn_target_level(struct cgroup *cg)
{
	if (cg && cg->kn->id == target_cgroup_id)
		target_level = cg->level;
	return 0;
}

static __always_inline int handle_memcg_stat(struct mem_cgroup *memcg, int item, int val, bool direct)
{
	struct ow_trace_proc *p, zero = {};
	__u32 tgid;
	__u64 bytes;
	int kind;

	if (!val)
		return 0;
	kind = trace_item_kind(item);
	if (kind < 0 || kind >= OW_TRACE_KINDS)
		return 0;
	if (direct ? !trace_in_target_direct(memcg) : !trace_in_target_probe(memcg))
		return 0;
	trace_stat_inc(OW_TRACE_STAT_EVENTS);
	tgid = bpf_get_current_pid_tgid() >> 32;
	p = bpf_map_lookup_elem(&trace_procs, &tgid);
	if (!p) {
		bpf_get_current_comm(zero.comm, sizeof zero.comm);
		bpf_map_update_elem(&trace_procs, &tgid, &zero, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&trace_procs, &tgid);
		if (!p) {
			trace_stat_inc(OW_TRACE_STAT_DROPS);
			return 0;
		}
	}
	/* the tracepoints report pages, also for the byte-sized slab items
	 * (the kernel converts them, at least one page per update) */
	if (val > 0) {
		bytes = (__u64)val * page_size;
		p->charged[kind] += bytes;
	} else {
		bytes = (__u64)(-(__s64)val) * page_size;
		p->uncharged[kind] += bytes;
	}
	return 0;
}

#endif
