/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps and helpers every oomwatch program shares. */
#ifndef OOMWATCH_COMMON_BPF_H
#define OOMWATCH_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "oomwatch.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OW_RINGBUF_BYTES);
} events SEC(".maps");

/* per-CPU counters indexed by enum ow_stat; userspace sums them */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* The kernel's PAGE_SIZE, set by userspace before load (sysconf). */
const volatile __u64 page_size = 4096;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* The id of the cgroup holding @t in the hierarchy the memory controller is
 * bound to (v1 or v2 alike): its kernfs id, which is the inode number of the
 * cgroup directory (kernfs_node.id is a u64 since 5.5). */
static __always_inline __u64 task_memcg_id(struct task_struct *t)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;

	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 0;
	css = BPF_CORE_READ(t, cgroups, subsys[id]);
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

#endif
