/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI between oomwatch's BPF programs and its C++ userspace.
 * Fixed-width types only; the C++ side static_asserts the sizes (user/bpf/abi.hpp).
 * Change a struct here and both sides follow; never re-declare one elsewhere.
 */
#ifndef OOMWATCH_ABI_H
#define OOMWATCH_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OW_COMM_LEN 16
#define OW_RINGBUF_BYTES (256 * 1024)

enum ow_event_type {
	OW_EV_OOM_KILL = 1,
	OW_EV_CGROUP_BIRTH = 2,
};

/* flags of struct ow_oom_event */
enum ow_oom_flags {
	/* the kernel's mark_victim passes only a pid (before 6.8): no task, so no
	 * rss, memcg or score; userspace fills what it can from /proc */
	OW_OOM_PID_ONLY = 1u << 0,
	/* the victim had no mm any more (rss fields are zero) */
	OW_OOM_NO_MM = 1u << 1,
	/* the counter at its limit was v1's memory+swap one (memory.memsw.limit_in_bytes),
	 * not memory: limit_usage_bytes / limit_max_bytes are memsw figures */
	OW_OOM_LIMIT_MEMSW = 1u << 2,
};

/* Levels the limit walk climbs from current's memcg (itself included). */
#define OW_LIMIT_WALK_LEVELS 16
/* A counter within this many pages of its max counts as "at its limit": a
 * failed charge leaves usage within nr_pages of max, and the largest single
 * charge is a THP (512 pages of 4 KiB). */
#define OW_LIMIT_SLACK_PAGES 512

/* One OOM kill, emitted from tp_btf/mark_victim (raw_tp fallback).
 * "victim" is the task being killed; "trigger" is current, the task whose
 * allocation ran into the limit. Sizes in bytes, times in CLOCK_MONOTONIC ns. */
struct ow_oom_event {
	__u32 type; /* OW_EV_OOM_KILL */
	__u32 flags; /* enum ow_oom_flags */
	__u64 ts_ns;
	__u32 pid; /* victim thread id */
	__u32 tgid; /* victim process id */
	__u32 uid;
	__s32 oom_score_adj;
	__u64 memcg_id; /* victim's memory cgroup: kernfs id == inode of its directory */
	__u64 trigger_memcg_id;
	__u32 trigger_pid;
	__u32 trigger_tgid;
	__u64 total_vm_bytes;
	__u64 anon_rss_bytes;
	__u64 file_rss_bytes;
	__u64 shmem_rss_bytes;
	__u64 pgtables_bytes;
	char comm[OW_COMM_LEN];
	char trigger_comm[OW_COMM_LEN];
	/* The memcg whose limit the allocation ran into, found by walking from
	 * current's memcg up to OW_LIMIT_WALK_LEVELS levels for the nearest one
	 * with a limited counter within OW_LIMIT_SLACK_PAGES of its max (a
	 * heuristic: the tracepoint does not pass the OOM's memcg). 0: none is
	 * at its limit (a global OOM); the root memcg is never reported. */
	__u64 limit_memcg_id; /* kernfs id == inode of its directory */
	__u64 limit_usage_bytes; /* usage of the counter at its limit */
	__u64 limit_max_bytes; /* its max (memory, or memsw with OW_OOM_LIMIT_MEMSW) */
};

/* flags of struct ow_memcg_rec */
enum ow_memcg_rec_flags {
	/* this kernel's memcg stats layout is not one the program knows: no
	 * inactive-file figure, inactive_file_bytes and working_set_bytes are 0
	 * (userspace reads memory.stat for them instead) */
	OW_MEMCG_NO_INACTIVE_FILE = 1u << 0,
};

/* The snapshot program calls the kfunc bpf_rdonly_cast() (6.2+) as this
 * helper number, which no kernel has; just before the program is loaded,
 * userspace rewrites each such call into a kfunc call naming the kernel's BTF
 * id of FUNC bpf_rdonly_cast (user/bpf/kfunc_call.hpp). A typed __ksym extern
 * instead makes libbpf 1.1 parse the whole kernel BTF (~7 ms) at every load.
 * Left unpatched, the kernel refuses the load (unknown helper): never a call
 * to something else. */
#define OW_HELPER_RDONLY_CAST 0x7ff0

/* One memory cgroup in a snapshot, written by the iter/cgroup program into the
 * mmapable array `snap_recs`. Sizes in bytes; limits of "no limit" come out
 * as PAGE_COUNTER_MAX pages * page size (userspace maps them to unlimited). */
struct ow_memcg_rec {
	/* The cgroup's css serial number (never reused within a boot) when the
	 * record was written whole: a record may stand over several walks
	 * (bpf/snapshot.bpf.h); also keeps the record at 128 bytes, two whole
	 * cache lines. Userspace does not read it. */
	__u64 serial;
	__u64 cgroup_id; /* kernfs id == inode of the cgroup directory */
	__u64 usage_bytes;
	__u64 limit_bytes; /* memory.max / memory.limit_in_bytes */
	__u64 high_bytes; /* memory.high (v2) */
	__u64 peak_bytes; /* page_counter watermark: memory.peak / max_usage_in_bytes */
	__u64 failcnt; /* v1 failcnt (0 where the kernel does not track it) */
	__u64 swap_bytes;
	__u64 ev_low, ev_high, ev_max, ev_oom, ev_oom_kill; /* memcg memory_events */
	__u32 level; /* depth below the walk's root (root = 0) */
	__u32 flags; /* enum ow_memcg_rec_flags */
	/* Hierarchical inactive file pages (v1 memory.stat total_inactive_file,
	 * v2 inactive_file) as of the memcg's last rstat flush: see
	 * bpf/memcg_inactive.bpf.h for the lag. */
	__u64 inactive_file_bytes;
	/* cAdvisor's working set: usage_bytes - inactive_file_bytes, floored at 0 */
	__u64 working_set_bytes;
};

/* Direct reclaim stalls charged to one memory cgroup (the charging task's), kept
 * in the hash map `reclaim_stalls` keyed by cgroup id and pinned for bpftool. */
struct ow_reclaim_stat {
	__u64 count; /* completed mm_vmscan_memcg_reclaim_begin/end pairs */
	__u64 total_ns;
	__u64 max_ns;
	__u64 last_ns; /* CLOCK_MONOTONIC end of the latest stall */
	__u64 reclaimed_pages; /* sum of nr_reclaimed reported by _end */
};

/* Index of counters in the per-CPU array map `stats`. */
enum ow_stat {
	OW_STAT_RB_DROPS = 0, /* ring buffer full: event lost */
	OW_STAT_OOM_EVENTS = 1, /* mark_victim hits */
	OW_STAT_SNAP_WALKS = 2, /* iter/cgroup walks */
	OW_STAT_BIRTH_DROPS = 3, /* births ring buffer full: a new cgroup's event lost */
	OW_STAT_BIRTHS = 4, /* births emitted (cgroup_mkdir under a watched root) */
	OW_STAT_MAX = 8,
};


/* ---- new cgroups under the agent's managed subtrees (bpf/births.bpf.h) ---- */

#define OW_BIRTH_RINGBUF_BYTES (64 * 1024)
/* cgroups the agent watches for new descendants (its --manage roots) */
#define OW_BIRTH_ROOTS 64
/* ancestors looked at per cgroup_mkdir, the new cgroup's parent first */
#define OW_BIRTH_LEVELS 8
/* NAME_MAX + 1: a cgroup directory's name and its NUL */
#define OW_CGROUP_NAME_LEN 256

/* One cgroup created below a watched root, emitted from the cgroup_mkdir
 * tracepoint (tp_btf, raw_tp fallback) into the `births` ring buffer. The
 * tracepoint fires just before the kernel makes the directory visible
 * (kernfs_activate), so a reader may find it missing for an instant.
 * The hash map `birth_roots` holds the watched roots: key the root's kernfs
 * id (__u64), value the id of its hierarchy (__u32, cgroup_root.hierarchy_id:
 * 0 on cgroup v2, the memory line of /proc/cgroups on v1); kernfs ids are
 * unique only within one hierarchy. */
struct ow_birth_event {
	__u32 type; /* OW_EV_CGROUP_BIRTH */
	__u32 depth; /* levels below the watched root: 1 = a direct child */
	__u64 ts_ns; /* CLOCK_MONOTONIC of the mkdir */
	__u64 cgroup_id; /* kernfs id == inode of the new directory */
	__u64 parent_id;
	__u64 root_id; /* the watched root it is under */
	char name[OW_CGROUP_NAME_LEN]; /* the directory's name (bytes, NUL-terminated) */
};

/* ---- eBPF memory accounting and GOMEMLIMIT hints (bpf/bpfmem.bpf.h) ---- */

#define OW_BPF_NAME_LEN 16 /* BPF_OBJ_NAME_LEN */

/* Event types of the `bpf_obj_events` ring buffer. Numbered apart from enum
 * ow_event_type so that a reader fed by both rings can dispatch on the first
 * __u32 of any record without ambiguity. */
enum ow_bpf_event_type {
	OW_EV_BPF_OBJ = 16,
};

/* flags of struct ow_bpf_map_rec */
enum ow_bpf_map_flags {
	/* memcg read through the pre-6.0 layout (bpf_map->memcg, not ->objcg) */
	OW_BPF_MAP_OLD_MEMCG = 1u << 0,
	/* the map is charged to no memory cgroup (root, or no kmem accounting):
	 * memcg_id is 0 */
	OW_BPF_MAP_UNCHARGED = 1u << 1,
};

/* One BPF map, written with bpf_seq_write by the iter/bpf_map program, one
 * fixed-size record per map. */
struct ow_bpf_map_rec {
	__u32 id;
	__u32 map_type; /* enum bpf_map_type */
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u64 memcg_id; /* memory cgroup charged for the map: kernfs id == inode of its directory */
	__u64 refcnt; /* all references: fds, pins, programs using it, outer maps */
	__u64 usercnt; /* user references: fds and pins */
	char name[OW_BPF_NAME_LEN];
	__u32 flags; /* enum ow_bpf_map_flags */
	__u32 pad;
};

/* A map creation or program load seen on tp/syscalls/sys_{enter,exit}_bpf,
 * emitted at syscall exit into the `bpf_obj_events` ring buffer. */
struct ow_bpf_obj_event {
	__u32 type; /* OW_EV_BPF_OBJ */
	__u32 cmd; /* enum bpf_cmd: BPF_MAP_CREATE or BPF_PROG_LOAD */
	__u64 ts_ns; /* CLOCK_MONOTONIC at syscall exit */
	__u64 memcg_id; /* the caller's memory cgroup: where the new object is charged */
	__u64 duration_ns; /* syscall entry to exit */
	__u32 pid; /* caller thread id */
	__u32 tgid; /* caller process id */
	__s32 ret; /* the new fd, or -errno */
	__u32 obj_id; /* id of the new map or program; 0 when failed or unreadable */
	__u32 obj_type; /* map_type or prog_type */
	__u32 key_size; /* maps only */
	__u32 value_size; /* maps only */
	__u32 max_entries; /* maps only */
	__u32 flags; /* map_flags or prog_flags */
	__u32 insn_cnt; /* programs only */
	char name[OW_BPF_NAME_LEN]; /* map_name or prog_name */
	char comm[OW_COMM_LEN];
};

/* The GOMEMLIMIT hint of one memory cgroup, in the hash map `gomemlimit_hints`
 * keyed by cgroup id (__u64) and pinned with BTF at
 * /sys/fs/bpf/oomwatch/gomemlimit for `bpftool map dump pinned`. */
struct ow_gomemlimit_hint {
	__u64 hint_bytes; /* the GOMEMLIMIT value */
	__u64 effective_limit_bytes; /* min of the cgroup's and its ancestors' limits (or machine memory) */
	__u64 ebpf_bytes; /* eBPF memory charged to the cgroup's subtree */
	__u64 nonheap_bytes; /* everything subtracted besides eBPF and the margin */
	__u64 ts_ns; /* CLOCK_REALTIME of publication */
};

/* ---- charge tracing on the memcg stat tracepoints (bpf/trace.bpf.h) ---- */

/* What a traced stat item counts. FILE_PAGES includes shmem (the kernel
 * counts shmem pages in NR_FILE_PAGES too): userspace reports file as
 * FILE_PAGES - SHMEM. */
enum ow_trace_kind {
	OW_TRACE_ANON = 0, /* NR_ANON_MAPPED */
	OW_TRACE_FILE_PAGES = 1, /* NR_FILE_PAGES (page cache, shmem included) */
	OW_TRACE_SHMEM = 2, /* NR_SHMEM (tmpfs, memfd, SysV shm) */
	OW_TRACE_KERNEL = 3, /* MEMCG_KMEM (all kernel memory charged to the memcg) */
	OW_TRACE_SLAB = 4, /* NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B (part of kernel) */
	OW_TRACE_KINDS = 5,
};

/* Index of counters in the per-CPU array `trace_stats`. */
enum ow_trace_stat {
	OW_TRACE_STAT_EVENTS = 0, /* tracepoint hits in the target subtree */
	OW_TRACE_STAT_DROPS = 1, /* hits lost: the per-process map was full */
	OW_TRACE_STAT_DEEP = 2, /* memcgs deeper than OW_TRACE_WALK_LEVELS below a match: skipped */
	OW_TRACE_STAT_MAX = 4,
};

/* css ancestors looked at per event (the memcg's own included) */
#define OW_TRACE_WALK_LEVELS 32
/* processes kept in `trace_procs` */
#define OW_TRACE_MAX_PROCS 8192

/* Bytes charged and uncharged by one process (tgid), per CPU, in the
 * per-CPU hash `trace_procs` keyed by tgid (__u32). */
struct ow_trace_proc {
	__u64 charged[OW_TRACE_KINDS]; /* bytes, increments of the stat */
	__u64 uncharged[OW_TRACE_KINDS]; /* bytes, decrements of the stat */
	char comm[OW_COMM_LEN]; /* of the thread whose hit created the entry on this CPU */
};

#endif /* OOMWATCH_ABI_H */
