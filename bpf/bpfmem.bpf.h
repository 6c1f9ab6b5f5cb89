/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* eBPF memory accounting: which maps exist, and which memory cgroup pays.
 *
 * - iter/bpf_map lists every map with the memcg it is charged to. One record
 *   per map goes out through bpf_seq_write. The seq_file buffer (8 pages)
 *   fills after ~500 records, but unlike the cgroup iterator (one session
 *   only, see snapshot.bpf.h) the map iterator resumes at the next map id on
 *   the next read(), so a plain read loop sees every map.
 * - tp/syscalls/sys_{enter,exit}_bpf see map creations and program loads as
 *   they happen: the attr is copied at entry (keyed by thread), completed at
 *   exit with the returned fd (or -errno) and the new object's id, and sent
 *   to the `bpf_obj_events` ring. The ring is separate from the OOM `events`
 *   ring so a burst of bpf() calls can never crowd out an OOM-kill record.
 * - gomemlimit_hints: the published GOMEMLIMIT hints, keyed by cgroup id. No
 *   program touches it; the Loader never creates it, gomemlimit/publish.cpp
 *   creates it alone (for its BTF), fills and pins it for bpftool. */
#ifndef OOMWATCH_BPFMEM_BPF_H
#define OOMWATCH_BPFMEM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "oomwatch.h"
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} bpf_obj_events SEC(".maps");

/* attr copied at sys_enter_bpf, completed at sys_exit_bpf */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32); /* tid */
	__type(value, struct ow_bpf_obj_event);
} bpf_obj_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* cgroups with a hint; buckets alone cost 16 B each */
	__uint(map_flags, BPF_F_NO_PREALLOC); /* entries allocated as hints are published */
	__type(key, __u64); /* memory cgroup id */
	__type(value, struct ow_gomemlimit_hint);
} gomemlimit_hints SEC(".maps");

__u64 bpfmem_rb_drops = 0; /* ring full: creation event lost */
__u64 bpfmem_iter_maps = 0; /* maps seen by iter/bpf_map walks */

/* Before 6.0 a map pinned the mem_cgroup itself; commit 4201d9ab3e42 ("bpf:
 * reparent bpf maps on memcg offlining") replaced map->memcg with map->objcg,
 * so that the charge moves to the parent when the cgroup is removed. Maps
 * are memcg-accounted at all since 5.11 ("bpf: memcg-based memory accounting
 * for bpf maps"); before that neither field exists and memcg_id stays 0. */
struct bpf_map___old {
	struct mem_cgroup *memcg;
} __attribute__((preserve_access_index));

static __always_inline __u64 map_memcg_id(struct bpf_map *map, __u32 *flags)
{
	struct mem_cgroup *memcg = NULL;

	if (bpf_core_field_exists(map->objcg)) {
		struct obj_cgroup *objcg = BPF_CORE_READ(map, objcg);

		if (objcg)
			memcg = BPF_CORE_READ(objcg, memcg);
	} else if (bpf_core_field_exists(((struct bpf_map___old *)map)->memcg)) {
		memcg = BPF_CORE_READ((struct bpf_map___old *)map, memcg);
		*flags |= OW_BPF_MAP_OLD_MEMCG;
	}
	if (!memcg) {
		*flags |= OW_BPF_MAP_UNCHARGED;
		return 0;
	}
	return BPF_CORE_READ(memcg, css.cgroup, kn, id);
}

static __always_inline int dump_bpf_map(struct seq_file *seq, struct bpf_map *map)
{
	struct ow_bpf_map_rec r = {};

	if (!map) /* end of the walk */
		return 0;
	r.id = BPF_CORE_READ(map, id);
	r.map_type = BPF_CORE_READ(map, map_type);
	r.key_size = BPF_CORE_READ(map, key_size);
	r.value_size = BPF_CORE_READ(map, value_size);
	r.max_entries = BPF_CORE_READ(map, max_entries);
	r.map_flags = BPF_CORE_READ(map, map_flags);
	r.refcnt = BPF_CORE_READ(map, refcnt.counter);
	r.usercnt = BPF_CORE_READ(map, usercnt.counter);
	BPF_CORE_READ_STR_INTO(&r.name, map, name);
	r.memcg_id = map_memcg_id(map, &r.flags);
	__sync_fetch_and_add(&bpfmem_iter_maps, 1);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

/* The id of the map or program behind the caller's new fd. Read right after
 * the syscall returned it; a thread closing it in between at worst makes
 * the id 0 or stale (probe reads cannot fault). */
static __always_inline __u32 new_obj_id(int fd, __u32 cmd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	void *priv;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	priv = BPF_CORE_READ(f, private_data);
	if (!priv)
		return 0;
	if (cmd == BPF_MAP_CREATE)
		return BPF_CORE_READ((struct bpf_map *)priv, id);
	return BPF_CORE_READ((struct bpf_prog *)priv, aux, id);
}

static __always_inline int handle_bpf_enter(__u64 cmd, const void *uattr, __u64 size)
{
	struct ow_bpf_obj_event e = {};
	union bpf_attr attr = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 n = size < sizeof(attr) ? (__u32)size : sizeof(attr);

	if (cmd != BPF_MAP_CREATE && cmd != BPF_PROG_LOAD)
		return 0;
	/* attr is UAPI (stable layout); a caller passing a shorter attr gets the
	 * tail zeroed by the kernel, and here too */
	if (bpf_probe_read_user(&attr, n, uattr))
		return 0;
	e.type = OW_EV_BPF_OBJ;
	e.cmd = (__u32)cmd;
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = tid;
	e.tgid = bpf_get_current_pid_tgid() >> 32;
	e.memcg_id = task_memcg_id((struct task_struct *)bpf_get_current_task());
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	if (cmd == BPF_MAP_CREATE) {
		e.obj_type = attr.map_type;
		e.key_size = attr.key_size;
		e.value_size = attr.value_size;
		e.max_entries = attr.max_entries;
		e.flags = attr.map_flags;
		__builtin_memcpy(e.name, attr.map_name, sizeof(e.name));
	} else {
		e.obj_type = attr.prog_type;
		e.insn_cnt = attr.insn_cnt;
		e.flags = attr.prog_flags;
		__builtin_memcpy(e.name, attr.prog_name, sizeof(e.name));
	}
	bpf_map_update_elem(&bpf_obj_pending, &tid, &e, BPF_ANY);
	return 0;
}

static __always_inline int handle_bpf_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ow_bpf_obj_event *e = bpf_map_lookup_elem(&bpf_obj_pending, &tid);
	__u64 now;

	if (!e)
		return 0;
	now = bpf_ktime_get_ns();
	e->duration_ns = now - e->ts_ns;
	e->ts_ns = now;
	e->ret = (__s32)ret;
	e->obj_id = ret >= 0 ? new_obj_id((int)ret, e->cmd) : 0;
	if (bpf_ringbuf_output(&bpf_obj_events, e, sizeof(*e), 0))
		__sync_fetch_and_add(&bpfmem_rb_drops, 1);
	bpf_map_delete_elem(&bpf_obj_pending, &tid);
	return 0;
}

#endif
