/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* New cgroups under the agent's managed roots, the moment they are made.
 *
 * The agent has to protect a managed child from its first byte: a container
 * runtime creates the cgroup and starts its process at once. A walk of the
 * tree each snapshot interval finds a child up to an interval late; the
 * cgroup_mkdir tracepoint tells the agent within microseconds. The program
 * looks at up to OW_BIRTH_LEVELS ancestors of the new cgroup (its css
 * parents) for one in `birth_roots` of the same hierarchy, and emits a record
 * only then: every other mkdir on the machine costs a few map lookups. */
#ifndef OOMWATCH_BIRTHS_BPF_H
#define OOMWATCH_BIRTHS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "oomwatch.h"
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OW_BIRTH_ROOTS);
	__type(key, __u64); /* kernfs id of a watched root */
	__type(value, __u32); /* its hierarchy id */
} birth_roots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OW_BIRTH_RINGBUF_BYTES);
} births SEC(".maps");

static __always_inline struct cgroup *cgroup_parent(struct cgroup *c)
{
	struct cgroup_subsys_state *p = BPF_CORE_READ(c, self.parent);

	return p ? BPF_CORE_READ(p, cgroup) : NULL;
}

static __always_inline int handle_cgroup_mkdir(struct cgroup *cgrp)
{
	__u32 hierarchy = BPF_CORE_READ(cgrp, root, hierarchy_id);
	struct cgroup *a = cgrp;
	__u64 root_id = 0;
	__u32 depth = 0;

	for (__u32 i = 1; i <= OW_BIRTH_LEVELS; i++) {
		a = cgroup_parent(a);
		if (!a)
			break;
		__u64 id = BPF_CORE_READ(a, kn, id);
		__u32 *h = bpf_map_lookup_elem(&birth_roots, &id);
		if (h && *h == hierarchy) {
			root_id = id;
			depth = i;
			break;
		}
	}
	if (!root_id)
		return 0;
	struct ow_birth_event *e = bpf_ringbuf_reserve(&births, sizeof(*e), 0);
	if (!e) {
		stat_inc(OW_STAT_BIRTH_DROPS);
		return 0;
	}
	e->type = OW_EV_CGROUP_BIRTH;
	e->depth = depth;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	struct cgroup *p = cgroup_parent(cgrp);
	e->parent_id = p ? BPF_CORE_READ(p, kn, id) : 0;
	e->root_id = root_id;
	const char *name = BPF_CORE_READ(cgrp, kn, name);
	if (bpf_probe_read_kernel_str(e->name, sizeof(e->name), name) < 0)
		e->name[0] = 0;
	stat_inc(OW_STAT_BIRTHS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
