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
#include "memcg_inactive.bpf.h"

const volatile __u32 snap_cap = 1; /* max_entries of snap_recs, set before load */
const volatile bool memcg_v1 = false; /* v1: swap is memsw minus memory */
/* The kernel BTF ids bpf_rdonly_cast() casts to. 0: this object's CO-RE
 * relocation gives them, which is right only against the kernel's own BTF;
 * a loader on a cut-down BTF (btf_custom_path, whose ids are its own) sets
 * the kernel's ids here. Read-only data: the verifier sees constants. */
const volatile __u32 snap_cgroup_btf_id = 0;
const volatile __u32 snap_memcg_btf_id = 0;
#define OW_CGROUP_BTF_ID (snap_cgroup_btf_id ? snap_cgroup_btf_id : bpf_core_type_id_kernel(struct cgroup))
#define OW_MEMCG_BTF_ID (snap_memcg_btf_id ? snap_memcg_btf_id : bpf_core_type_id_kernel(struct mem_cgroup))

__u32 snap_skip = 0; /* records to skip (segmented walks), set by userspace */
__u32 snap_seen = 0; /* memcgs visited by this walk */
__u32 snap_written = 0; /* records valid after this walk (rewritten or left standing) */
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

/* Two programs, the loader picks one (bpf/oomwatch.bpf.c):
 *   snap_memcg       6.2+: reads the memcg with plain loads through the
 *                    untrusted pointer bpf_rdonly_cast() makes of it (see
 *                    "6.2+: the same with plain loads" below);
 *   snap_memcg_copy  6.1, which has no bpf_rdonly_cast(): copies.
 * Cost of the copies: each bpf_probe_read_kernel() is a helper call through
 * copy_from_kernel_nofault(), so a rewritten record takes its figures in a few
 * copies instead of one per field: the memory page counter's span in one, the
 * swap counter's usage, memory_events[] in one, the vmstats pointer and its
 * inactive-file slot. Every offset is a CO-RE relocation, so the copies (and
 * the plain loads) are laid out as the running kernel lays them out, whatever
 * vmlinux.h says. Most walks rewrite few records (see "what a walk rewrites"
 * below). */
#define OW_SNAP_SCRATCH 1024
static __u8 snap_scratch[OW_SNAP_SCRATCH]; /* one walker per object, like snap_recs */

static __always_inline __u64 scratch_u64(__u32 off)
{
	if (off > OW_SNAP_SCRATCH - 8)
		return 0;
	return *(__u64 *)(snap_scratch + off);
}

/* Per slot of snap_recs, a fold of what the record there was written from
 * (see "what a walk rewrites" below) and two addresses (see look_ahead()):
 * 24 bytes a slot, so a walk's compares touch 3/8 of a cache line per cgroup,
 * in order, instead of the record's line. */
struct snap_slot {
	__u64 fold;
	/* the slot's cgroup and memcg at its last rewrite, for look_ahead() */
	__u64 cgroup, memcg;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized with snap_recs */
	__type(key, __u32);
	__type(value, struct snap_slot);
} snap_last SEC(".maps");

/* ---- what a walk rewrites ----
 *
 * At 10 Hz the caches are cold at every walk, and a memcg's figures sit on a
 * dozen cache lines (the page counters, memory_events[], the vmstats slot,
 * the kernfs node for the id) besides the record's own two. Most memcgs of a
 * node do not move between two walks, so each slot of snap_recs keeps the
 * record the last walk wrote there, and snap_last the fold of the cgroup's css
 * serial number (unique for the boot, never reused: a removed cgroup's slot
 * cannot pass for a new cgroup's) with the memory page counter's usage and
 * failcnt, which share its first cache line, and its high and max limits
 * (and, for the 6.2+ program, the addresses look_ahead() uses).
 * A walk reads those and compares the fold; only a slot holding another
 * cgroup, or whose usage, failcnt or limits moved, is rewritten whole. The
 * other figures (peak, swap, memory_events[], the inactive file slot) can
 * move while usage stands
 * still, so every slot is also rewritten whole once every snap_refresh walks,
 * spread over the slots by position (1/snap_refresh of them per walk): those
 * figures are at most snap_refresh - 1 walks old when usage and failcnt stood
 * still. snap_refresh <= 1 rewrites every slot at every walk.
 *
 * The state lives in the maps, so a new load (an agent restart) starts from
 * empty slots; cgroups created or removed shift the slots after them, which
 * are then rewritten (another serial); segments of a hierarchy larger than
 * snap_cap share the slots, so such walks rewrite every record.
 *
 * What is left per skipped memcg (6.2+ program, 10,000 cgroups, caches
 * evicted before each walk, us per cgroup, docs/performance.md): the walk
 * alone 0.15; reading subsys[] +0.02; the page counter's lines +0.06
 * (both lines cost what one does: their loads overlap); the fold, the
 * compare and the refresh turn +0.07; look_ahead() takes back about 0.04. */
__u32 snap_refresh = 0; /* set by userspace before each walk (0, 1: every slot) */
__u32 snap_gen = 0; /* walks ended so far: which slots this walk refreshes */
__u32 snap_fresh = 0; /* records this walk rewrote whole */

#define PC_OFF(f) bpf_core_field_offset(struct page_counter, f)

/* serial, usage, failcnt, high and max folded into one word (never 0, an
 * empty slot's). */
static __always_inline __u64 snap_fold(__u64 serial, __u64 usage, __u64 failcnt, __u64 high, __u64 max)
{
	__u64 h = serial * 0x9E3779B97F4A7C15ULL;

	h = (h ^ usage) * 0xBF58476D1CE4E5B9ULL;
	h = (h ^ (h >> 31) ^ failcnt) * 0x94D049BB133111EBULL;
	h = (h ^ (h >> 29) ^ high) * 0xBF58476D1CE4E5B9ULL;
	h = (h ^ (h >> 31) ^ max) * 0x94D049BB133111EBULL;
	return (h ^ (h >> 29)) | 1;
}

/* The memory page counter's usage and, when it shares usage's cache line
 * (6.10+), failcnt; and its high and max (adjacent on the counter's
 * read-mostly line): the compare's whole read of the memcg. The limits are
 * in the fold because what follows them (GOMEMLIMIT hints, the v2 guard,
 * /metrics) must see a limit written to an idle cgroup at the next walk,
 * not a refresh turn later: one more cold line per memcg.
 *
 * Two ways to read them, one per program (the loader picks):
 *   6.2+  plain loads through bpf_rdonly_cast()'s untrusted memcg pointer
 *         (the JIT turns them into fault-safe loads). No helper call, and the
 *         two lines' loads are independent instructions side by side, so the
 *         CPU has both cache misses in flight at once.
 *   6.1   two bpf_probe_read_kernel() copies, one per line: each a call
 *         through copy_from_kernel_nofault(), and the second line's miss
 *         waits for the first copy's. */
static void *(*bpf_rdonly_cast)(const void *obj, __u32 btf_id) = (void *)OW_HELPER_RDONLY_CAST;

/* The compare's read, 6.1: two copies. */
static __always_inline __u64 counter_fold(struct mem_cgroup *m, __u64 serial)
{
	__u64 uf[2] = {}, hm[2] = {};
	__u32 base = bpf_core_field_offset(struct mem_cgroup, memory);

	if (PC_OFF(failcnt) == PC_OFF(usage) + 8) {
		bpf_probe_read_kernel(uf, sizeof(uf), (void *)m + base + PC_OFF(usage));
	} else {
		bpf_probe_read_kernel(uf, sizeof(uf[0]), (void *)m + base + PC_OFF(usage));
		uf[1] = 0;
	}
	if (PC_OFF(max) == PC_OFF(high) + 8) {
		bpf_probe_read_kernel(hm, sizeof(hm), (void *)m + base + PC_OFF(high));
	} else {
		bpf_probe_read_kernel(&hm[0], sizeof(hm[0]), (void *)m + base + PC_OFF(high));
		bpf_probe_read_kernel(&hm[1], sizeof(hm[1]), (void *)m + base + PC_OFF(max));
	}
	return snap_fold(serial, uf[0], uf[1], hm[0], hm[1]);
}

/* The memory page counter's figures a walk compares with the slot. */
struct snap_check {
	__u64 usage, limit, high, peak, failcnt; /* bytes, but failcnt */
};

#define MIN2(a, b) ((a) < (b) ? (a) : (b))
#define MAX2(a, b) ((a) > (b) ? (a) : (b))

/* The memory page counter's usage, failcnt, watermark, high and max in one
 * copy (their span: 3 cache lines on 6.18, 2 on 6.1), else field by field. */
static __always_inline void read_memory_counter(struct mem_cgroup *m, struct snap_check *c)
{
	__u32 lo = MIN2(MIN2(MIN2(PC_OFF(usage), PC_OFF(failcnt)), MIN2(PC_OFF(watermark), PC_OFF(high))), PC_OFF(max));
	__u32 hi = MAX2(MAX2(MAX2(PC_OFF(usage), PC_OFF(failcnt)), MAX2(PC_OFF(watermark), PC_OFF(high))), PC_OFF(max)) + 8;

	if (hi - lo <= OW_SNAP_SCRATCH &&
	    !bpf_probe_read_kernel(snap_scratch, hi - lo,
				   (void *)m + bpf_core_field_offset(struct mem_cgroup, memory) + lo)) {
		c->usage = pages(scratch_u64(PC_OFF(usage) - lo));
		c->limit = pages(scratch_u64(PC_OFF(max) - lo));
		c->high = pages(scratch_u64(PC_OFF(high) - lo));
		c->peak = pages(scratch_u64(PC_OFF(watermark) - lo));
		c->failcnt = scratch_u64(PC_OFF(failcnt) - lo);
		return;
	}
	c->usage = pages(BPF_CORE_READ(m, memory.usage.counter));
	c->limit = pages(BPF_CORE_READ(m, memory.max));
	c->high = pages(BPF_CORE_READ(m, memory.high));
	c->peak = pages(BPF_CORE_READ(m, memory.watermark));
	c->failcnt = BPF_CORE_READ(m, memory.failcnt);
}

/* The swap counter's usage (memsw and swap share the union's offset): v1's
 * memsw counts memory and swap together. After r->usage_bytes. */
static __always_inline void set_swap(struct ow_memcg_rec *r, __u64 other)
{
	if (memcg_v1)
		r->swap_bytes = other > r->usage_bytes ? other - r->usage_bytes : 0;
	else
		r->swap_bytes = other;
}

/* The working set: usage less inactive file, when this kernel's layout gave
 * the inactive file count. After r->usage_bytes. */
static __always_inline void set_working_set(struct ow_memcg_rec *r, bool have_inactive, long inactive)
{
	if (have_inactive) {
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

static __always_inline __u64 ev_at(const __u64 *ev, long i)
{
	return i >= 0 && i < 9 ? ev[i] : 0;
}

/* The whole record: the counter's figures already read, the rest now. */
static __always_inline void fill_memcg(struct ow_memcg_rec *r, struct cgroup *cg, struct mem_cgroup *m,
				       const struct snap_check *c)
{
	__u64 ev[9] = {};
	__u32 evn;
	long inactive = 0;

	/* Helper reads, not plain loads: the verifier looks a trusted-pointer
	 * annotation up by name in the kernel BTF (a linear search) at every plain
	 * load through a BTF pointer, and these two sit on the rewrite path only. */
	r->cgroup_id = BPF_CORE_READ(cg, kn, id);
	r->level = BPF_CORE_READ(cg, level) - snap_root_level;
	r->usage_bytes = c->usage;
	r->limit_bytes = c->limit;
	r->high_bytes = c->high;
	r->peak_bytes = c->peak;
	r->failcnt = c->failcnt;
	set_swap(r, pages(memcg_v1 ? BPF_CORE_READ(m, memsw.usage.counter) : BPF_CORE_READ(m, swap.usage.counter)));
	evn = bpf_core_field_size(struct mem_cgroup, memory_events);
	if (evn > sizeof(ev))
		evn = sizeof(ev);
	bpf_probe_read_kernel(ev, evn, (void *)m + bpf_core_field_offset(struct mem_cgroup, memory_events));
	r->ev_low = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_LOW));
	r->ev_high = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_HIGH));
	r->ev_max = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX));
	r->ev_oom = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM));
	r->ev_oom_kill = ev_at(ev, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL));
	set_working_set(r, memcg_inactive_file(m, &inactive), inactive);
}

/* ---- 6.2+: the same with plain loads ----
 *
 * Through the untrusted pointer bpf_rdonly_cast() makes of the memcg, every
 * field is a plain load the JIT makes fault-safe: no helper call per field,
 * and loads whose addresses do not depend on each other are in flight
 * together (the compare's two lines; a rewrite's watermark, swap counter,
 * memory_events[] and vmstats pointer lines), where each copy above waits for
 * the one before. Loads of scalars through an untrusted pointer cost the
 * verifier no BTF name search. */

/* The page counter as the compare read it (pages; failcnt 0 when it is not
 * on usage's line). */
struct snap_raw {
	long usage, failcnt, high, max;
};

static __always_inline __u64 counter_fold_cast(struct mem_cgroup *mc, __u64 serial, struct snap_raw *raw)
{
	raw->usage = mc->memory.usage.counter;
	raw->high = mc->memory.high;
	raw->max = mc->memory.max;
	raw->failcnt = PC_OFF(failcnt) == PC_OFF(usage) + 8 ? mc->memory.failcnt : 0;
	return snap_fold(serial, raw->usage, raw->failcnt, raw->high, raw->max);
}

static __always_inline __u64 event_cast(struct mem_cgroup *mc, long i)
{
	long n = bpf_core_field_size(struct mem_cgroup, memory_events) / sizeof(long);

	if (i < 0 || i >= n)
		return 0;
	return *(long *)((void *)mc + bpf_core_field_offset(struct mem_cgroup, memory_events) + i * sizeof(long));
}

/* The whole record from the compare's read and plain loads. The cgroup id
 * (kn->id: two dependent lines, the kernfs node's among them) is taken from
 * the record when the slot already holds this cgroup (same serial). */
static __always_inline void fill_memcg_cast(struct ow_memcg_rec *r, struct cgroup *cg, struct mem_cgroup *mc,
					    const struct snap_raw *raw, __u64 serial)
{
	long idx = inactive_file_index();
	struct memcg_vmstats *vs = 0;
	long inactive = 0;
	bool have_inactive = false;

	if (idx >= 0 && bpf_core_field_exists(struct mem_cgroup, vmstats) &&
	    bpf_core_field_size(struct mem_cgroup, vmstats) == sizeof(void *))
		vs = mc->vmstats; /* first: the one load another depends on */
	r->usage_bytes = pages(raw->usage);
	r->limit_bytes = pages(raw->max);
	r->high_bytes = pages(raw->high);
	r->peak_bytes = pages(mc->memory.watermark);
	r->failcnt = PC_OFF(failcnt) == PC_OFF(usage) + 8 ? raw->failcnt : mc->memory.failcnt;
	set_swap(r, pages(memcg_v1 ? mc->memsw.usage.counter : mc->swap.usage.counter));
	r->ev_low = event_cast(mc, bpf_core_enum_value(enum memcg_memory_event, MEMCG_LOW));
	r->ev_high = event_cast(mc, bpf_core_enum_value(enum memcg_memory_event, MEMCG_HIGH));
	r->ev_max = event_cast(mc, bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX));
	r->ev_oom = event_cast(mc, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM));
	r->ev_oom_kill = event_cast(mc, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL));
	r->level = cg->level - snap_root_level;
	if (r->serial != serial || !r->cgroup_id) /* ids start at 1; an empty slot has 0 */
		r->cgroup_id = BPF_CORE_READ(cg, kn, id);
	if (vs) {
		inactive = *(long *)((void *)vs + bpf_core_field_offset(struct memcg_vmstats, state) +
				     idx * sizeof(long));
		have_inactive = true;
	}
	set_working_set(r, have_inactive, inactive);
}

/* Look ahead (6.2+ program). A walk visits the cgroups in the order the last
 * one did, unless cgroups came or went, so the slot OW_SNAP_AHEAD places on
 * most likely holds the same cgroup as at the last walk. Its snap_slot keeps
 * that cgroup's and memcg's addresses, and loading from them now starts the
 * misses of the subsys[] line and of the page counter's two lines early:
 * when the walk gets there, the compare finds them in cache, instead of
 * waiting for two dependent misses (subsys[], then the memcg) per cgroup.
 * The values loaded are thrown away (into a sink the compiler cannot drop);
 * a stale address (a cgroup removed since, its memory freed or reused) costs
 * a wasted load and nothing else: the loads go through bpf_rdonly_cast()'s
 * untrusted pointers, which the JIT makes fault-safe, and nothing read here
 * reaches a record. Storing an address in a map needs CAP_PERFMON (root).
 * Measured at 10,000 cgroups with caches cold: 2, 4 or 8 places ahead pay
 * alike (docs/performance.md). Called once the slot is known: called first
 * thing in the program instead, it doubled the verification time (2.9 ms
 * against 1.5) for no gain. */
#define OW_SNAP_AHEAD 4

__u64 snap_ahead_sink = 0;

static __always_inline void look_ahead(int id, __u32 idx)
{
	__u32 at = idx + OW_SNAP_AHEAD;
	struct snap_slot *sl = bpf_map_lookup_elem(&snap_last, &at);
	struct mem_cgroup *pm;
	struct cgroup *pc;

	if (!sl || !sl->memcg)
		return;
	pc = bpf_rdonly_cast((void *)sl->cgroup, OW_CGROUP_BTF_ID);
	pm = bpf_rdonly_cast((void *)sl->memcg, OW_MEMCG_BTF_ID);
	snap_ahead_sink += (pc->subsys[id] ? 1 : 0) + pm->memory.usage.counter + pm->memory.max;
}

static __always_inline int snapshot_memcg(struct cgroup *cg, const bool cast)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	struct ow_memcg_rec *r;
	struct snap_check c;
	__u32 pos, idx, every;
	__u64 serial, fold;
	struct snap_slot *last;

	if (!cg) { /* end of the walk */
		snap_gen++;
		stat_inc(OW_STAT_SNAP_WALKS);
		return 0;
	}
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 1;
	/* Removed cgroups stay on the walk until their last reference goes (dying
	 * memcgs can linger for minutes); they have no path any more, skip them.
	 * The cgroup's own css loses CSS_ONLINE (1 << 1, an anonymous enum,
	 * unchanged since 3.x) first thing when it is removed, and the walk has
	 * just read that cache line; its memcg's css is taken offline right after. */
	if (!(cg->self.flags & 2))
		return 0;
	css = cg->subsys[id];
	if (!css)
		return 0; /* no memcg here (controller not enabled): skip, keep walking */
	pos = snap_seen++;
	if (pos < snap_skip)
		return 0;
	idx = pos - snap_skip;
	if (idx >= snap_cap)
		return 0; /* keep counting: userspace walks again from snap_skip + snap_cap */
	if (cast)
		look_ahead(id, idx);
	r = bpf_map_lookup_elem(&snap_recs, &idx);
	if (!r)
		return 0;
	/* css is the first member of struct mem_cgroup; relocate its offset anyway */
	struct mem_cgroup *m = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	serial = cg->self.serial_nr; /* on the cache line the walk just read */
	struct mem_cgroup *mc = 0;
	struct snap_raw raw = {};
	if (cast) {
		mc = bpf_rdonly_cast(m, OW_MEMCG_BTF_ID);
		fold = counter_fold_cast(mc, serial, &raw);
	} else {
		fold = counter_fold(m, serial);
	}
	last = bpf_map_lookup_elem(&snap_last, &idx);
	every = snap_refresh;
	if (last && last->fold == fold && every > 1 && (snap_gen + pos) % every != 0) {
		snap_written++; /* the slot's record stands */
		return 0;
	}
	if (cast) {
		fill_memcg_cast(r, cg, mc, &raw, serial);
	} else {
		read_memory_counter(m, &c);
		fill_memcg(r, cg, m, &c);
	}
	r->serial = serial;
	if (last) {
		/* the fold read before the record: a counter that moved in between
		 * differs from it at the next walk, which rewrites the record again */
		last->fold = fold;
		if (cast) {
			last->cgroup = (__u64)cg;
			last->memcg = (__u64)m;
		}
	}
	snap_fresh++;
	snap_written++;
	return 0;
}

#endif
