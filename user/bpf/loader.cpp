#include "bpf/loader.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>

#include "bpf/bpffs.hpp"
#include "bpf/btf_raw.hpp"
#include "bpf/core_btf.hpp"
#include "bpf/iter_cgroup.hpp"
#include "bpf/kfunc_call.hpp"
#include "bpf/probe.hpp"
#include "oomwatch.skel.h"
#include "util/log.hpp"

namespace ow::bpf {
namespace {

struct HookDef {
  const char* tracepoint;
  bpf_program* btf_prog;
  bpf_program* raw_prog;
  bool optional;
  const char* consequence;
};

// tracefs where libbpf 1.1 looks for tracepoint ids (debugfs/tracing first,
// then /sys/kernel/tracing), mounting it at /sys/kernel/tracing if neither is.
Result<std::string> tracefs_dir() {
  for (const char* d : {"/sys/kernel/debug/tracing", "/sys/kernel/tracing"})
    if (::access((std::string(d) + "/events").c_str(), F_OK) == 0) return std::string(d);
  if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    return sys_error("mount tracefs at", "/sys/kernel/tracing");
  return std::string("/sys/kernel/tracing");
}

}  // namespace

Result<std::unique_ptr<Loader>> Loader::open(const LoaderOptions& opts) {
  // Snapshots alone (collect, top, ...): with a cache dir, against the cached
  // CO-RE BTF (no kernel BTF parsed at all); without one, or when that load
  // fails, the cgroup iterator is assumed (6.1+) instead of looked up in the
  // kernel BTF's strings (1.5 ms). A kernel without it fails the load, and
  // only then is the object opened again with the lookup, which switches
  // snapshots off there.
  const bool parses_btf = opts.oom_events || opts.reclaim || opts.births || opts.test_programs;
  if (opts.snapshots && !parses_btf) {  // with the BTF parsed, the lookup is free
    if (!opts.btf_cache_dir.empty() && !opts.bpfmem) {
      auto l = open_once(opts, false, true);
      if (l) return l;
      spdlog::debug("BPF load with the cached CO-RE BTF failed ({}); loading against the kernel's BTF",
                    l.error().message());
    }
    auto l = open_once(opts, false, false);
    if (l) return l;
    spdlog::debug("BPF load with the cgroup iterator assumed failed ({}); loading again with it probed",
                  l.error().message());
  }
  return open_once(opts, true, false);
}

Result<std::unique_ptr<Loader>> Loader::open_once(const LoaderOptions& opts, bool probe_iter, bool use_cache) {
  // The parsed kernel BTF is for the tracepoint probes (and mark_victim's
  // argument type) only; loaders of iterators alone skip its ~7 ms.
  std::optional<VmlinuxBtf> btf;
  if (opts.oom_events || opts.reclaim || opts.births || opts.test_programs) {
    auto b = VmlinuxBtf::load();
    if (!b) return b.error();
    btf.emplace(std::move(*b));
  }
  auto has_struct = [&](const char* name) -> Result<bool> {
    if (btf) return btf__find_by_name_kind(btf->raw(), name, BTF_KIND_STRUCT) > 0;
    return kernel_btf_has_name(name);
  };

  // Before the open: the object's iter/cgroup programs take oomwatch's handler.
  if (auto st = use_iter_cgroup_handler(); !st) return st.error();
  std::optional<CoreBtf> core;
  if (use_cache) {
    size_t size = 0;
    const void* elf = oomwatch_bpf__elf_bytes(&size);
    auto c = core_btf_for(opts.btf_cache_dir, std::string_view(static_cast<const char*>(elf), size));
    if (!c) return c.error();
    if (c->built) spdlog::debug("CO-RE BTF of this kernel written to {}", c->path);
    set_iter_cgroup_btf_id(c->iter_cgroup_id);
    core = std::move(*c);
  }
  if (btf) set_iter_cgroup_btf_id(btf__find_by_name_kind(btf->raw(), "bpf_iter_cgroup", BTF_KIND_FUNC));

  std::unique_ptr<Loader> l(new Loader());
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = core ? core->path.c_str() : nullptr);
  l->skel_ = oomwatch_bpf__open_opts(&open_opts);
  if (!l->skel_) return sys_error("open BPF skeleton");
  auto* s = l->skel_;

  // mark_victim passes the task since 6.8, a pid before: tell the program which.
  if (btf) {
    int nargs = btf->trace_nargs("mark_victim");
    l->victim_arg_is_task_ = nargs >= 1 && btf->trace_arg_is_ptr("mark_victim", 0);
  }
  s->rodata->victim_arg_is_task = l->victim_arg_is_task_;
  // Page counters count pages: snapshots and the OOM limit walk turn them into bytes.
  s->rodata->page_size = static_cast<__u64>(::sysconf(_SC_PAGESIZE));

  std::vector<HookDef> defs;
  if (opts.oom_events)
    defs.push_back({"mark_victim", s->progs.oom_mark_victim_btf, s->progs.oom_mark_victim_raw, false,
                    "no OOM-kill events: oomwatch cannot see kills"});

  if (opts.reclaim) {
    defs.push_back({"mm_vmscan_memcg_reclaim_begin", s->progs.reclaim_begin_btf, s->progs.reclaim_begin_raw, true,
                    "no reclaim-stall figures (rescue still works through v1 oom_control / v2 memory.events)"});
    defs.push_back({"mm_vmscan_memcg_reclaim_end", s->progs.reclaim_end_btf, s->progs.reclaim_end_raw, true,
                    "no reclaim-stall figures (rescue still works through v1 oom_control / v2 memory.events)"});
  }

  if (opts.births)
    defs.push_back({"cgroup_mkdir", s->progs.births_mkdir_btf, s->progs.births_mkdir_raw, true,
                    "new cgroups under --manage are found by the snapshot walk, up to one interval late"});

  // Everything off first; each wanted hook gets exactly one flavor.
  bpf_object* obj = s->obj;
  bpf_program* p;
  bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, false);
  if (opts.test_programs) bpf_program__set_autoload(s->progs.test_mark_victim, true);

  if (opts.snapshots) {
    // iter/cgroup exists since 6.1; its context type names it in the BTF.
    Result<bool> has = true;
    if (probe_iter || btf) has = has_struct("bpf_iter__cgroup");
    if (!has) return has.error();
    if (*has) {
      l->snap_cap_ = std::max<uint32_t>(opts.snap_cap, 64);
      bpf_map__set_max_entries(s->maps.snap_recs, l->snap_cap_);
      bpf_map__set_max_entries(s->maps.snap_last, l->snap_cap_);
      s->rodata->snap_cap = l->snap_cap_;
      s->rodata->memcg_v1 = opts.memcg_v1;
      // The snapshot program reads memcgs with plain loads through the
      // bpf_rdonly_cast() kfunc (6.2+), or with copies (6.1). The kfunc's
      // kernel BTF id, which the load patches into the program's calls
      // (kfunc_call.hpp), from the cache, the BTF parsed here, or one pass
      // over the kernel's raw BTF; none: the copying program.
      Result<int> cast = 0;
      if (opts.snap_copy) cast = 0;
      else if (core) cast = core->rdonly_cast_id;
      else if (btf) cast = std::max(0, btf__find_by_name_kind(btf->raw(), "bpf_rdonly_cast", BTF_KIND_FUNC));
      else cast = kernel_btf_func_id("bpf_rdonly_cast");
      if (!cast) return cast.error();
      set_rdonly_cast_btf_id(*cast);
      l->snap_prog_ = *cast > 0 ? s->progs.snap_memcg : s->progs.snap_memcg_copy;
      bpf_program__set_autoload(l->snap_prog_, true);
      // With the cached BTF nothing else needs the kernel's: the handler
      // gives the iterator its target. Else libbpf resolves it from the
      // kernel's BTF, which it parses for CO-RE anyway.
      if (core) {
        // The cast targets by the kernel's ids: a CO-RE type id would be
        // the cut-down BTF's own.
        s->rodata->snap_cgroup_btf_id = static_cast<__u32>(core->cgroup_type_id);
        s->rodata->snap_memcg_btf_id = static_cast<__u32>(core->memcg_type_id);
        l->core_btf_cached_ = true;
        if (auto st = defer_iter_cgroup_target(l->snap_prog_); !st) return st.error();
      } else if (!btf) {
        if (int e = bpf_program__set_attach_target(l->snap_prog_, 0, "cgroup"); e)
          return sys_error("find the cgroup iterator in the kernel BTF", kVmlinuxBtf, -e);
      }
      l->snapshots_loaded_ = true;
    } else {
      spdlog::warn("kernel has no cgroup iterator (6.1+): snapshots fall back to reading cgroupfs files");
    }
  }

  if (opts.bpfmem) {
    // iter/bpf_map exists since 5.8; its context type names it in the BTF.
    auto has = has_struct("bpf_iter__bpf_map");
    if (!has) return has.error();
    if (*has) {
      bpf_program__set_autoload(s->progs.bpfmem_dump_map, true);
      l->bpfmem_loaded_ = true;
    } else {
      spdlog::warn("kernel has no bpf_map iterator (5.8+): eBPF maps are listed without their memory cgroup");
    }
  }
  // The hint map is created and pinned by gomemlimit/publish.cpp, never here;
  // the bpf() event maps only when their programs load.
  bpf_map__set_autocreate(s->maps.gomemlimit_hints, false);
  bpf_map__set_autocreate(s->maps.bpf_obj_events, false);
  bpf_map__set_autocreate(s->maps.bpf_obj_pending, false);
  // Syscall tracepoints (tp/syscalls/*): both or neither, attached after load.
  std::vector<std::pair<std::string, bpf_program*>> bpf_tps;
  if (opts.bpfmem_events) {
    const char* consequence = "no live map-creation/program-load events (the bpf_map iterator still lists every map)";
    auto tfs = tracefs_dir();
    std::string why;
    if (!tfs) why = tfs.error().message();
    for (const char* tp : {"sys_enter_bpf", "sys_exit_bpf"})
      if (why.empty() && ::access((*tfs + "/events/syscalls/" + tp + "/id").c_str(), F_OK) != 0)
        why = sys_error(std::string("tracepoint syscalls/") + tp + " (needs CONFIG_FTRACE_SYSCALLS)", *tfs).message();
    for (const char* tp : {"sys_enter_bpf", "sys_exit_bpf"}) {
      HookStatus st{std::string("syscalls/") + tp, why.empty() ? "tp" : "skipped", false, why,
                    why.empty() ? "" : consequence};
      l->hooks_.push_back(st);
    }
    if (why.empty()) {
      bpf_tps = {{"syscalls/sys_enter_bpf", s->progs.bpfmem_sys_enter}, {"syscalls/sys_exit_bpf", s->progs.bpfmem_sys_exit}};
      for (auto& [tp, prog] : bpf_tps) bpf_program__set_autoload(prog, true);
      bpf_map__set_autocreate(s->maps.bpf_obj_events, true);
      bpf_map__set_autocreate(s->maps.bpf_obj_pending, true);
    } else {
      spdlog::warn("skipping bpf syscall tracepoints: {} ({})", why, consequence);
    }
  }

  std::vector<std::pair<HookDef, bpf_program*>> chosen;
  for (const auto& d : defs) {
    HookStatus st{d.tracepoint, "skipped", false, "", ""};
    auto b = probe_tp_btf(*btf, d.tracepoint);  // defs need oom_events or reclaim: btf is parsed
    if (b) {
      st.mode = "tp_btf";
      chosen.push_back({d, d.btf_prog});
    } else {
      auto r = probe_raw_tp(d.tracepoint);
      if (r) {
        st.mode = "raw_tp";
        st.error = b.error().message();
        chosen.push_back({d, d.raw_prog});
      } else {
        st.error = b.error().message() + "; " + r.error().message();
        st.consequence = d.consequence;
        if (!d.optional) {
          l->hooks_.push_back(st);
          return app_error("cannot hook tracepoint " + std::string(d.tracepoint) + ": " + st.error);
        }
        spdlog::warn("skipping tracepoint {}: {} ({})", d.tracepoint, st.error, d.consequence);
      }
    }
    l->hooks_.push_back(st);
  }
  for (auto& [d, prog] : chosen) bpf_program__set_autoload(prog, true);
  // The births maps only with their program.
  bool births = std::any_of(chosen.begin(), chosen.end(),
                            [](const auto& c) { return std::string(c.first.tracepoint) == "cgroup_mkdir"; });
  bpf_map__set_autocreate(s->maps.births, births);
  bpf_map__set_autocreate(s->maps.birth_roots, births);
  // Maps only their programs use, created with them (the reclaim tables
  // alone are 1 MiB of preallocated hash buckets).
  bpf_map__set_autocreate(s->maps.events, opts.oom_events || opts.test_programs);
  bpf_map__set_autocreate(s->maps.reclaim_start, opts.reclaim);
  bpf_map__set_autocreate(s->maps.reclaim_stalls, opts.reclaim);

  int err = oomwatch_bpf__load(s);
  if (err) return sys_error("load BPF programs (run with --log-level debug for the verifier log)", {}, -err);

  for (auto& [d, prog] : chosen) {
    bpf_link* link = bpf_program__attach(prog);
    for (auto& h : l->hooks_)
      if (h.tracepoint == d.tracepoint) {
        if (!link) {
          h.error = sys_error("attach " + h.mode + "/" + h.tracepoint).message();
          if (!d.optional) return app_error(h.error);
          h.consequence = d.consequence;
          spdlog::warn("{} ({})", h.error, d.consequence);
        } else {
          h.attached = true;
        }
      }
    if (link) l->links_.emplace_back(link);
  }
  for (auto& [tp, prog] : bpf_tps) {
    bpf_link* link = bpf_program__attach(prog);
    for (auto& h : l->hooks_)
      if (h.tracepoint == tp) {
        h.attached = link != nullptr;
        if (!link) {
          h.error = sys_error("attach tp/" + tp).message();
          h.consequence = "no live map-creation/program-load events (the bpf_map iterator still lists every map)";
          spdlog::warn("{} ({})", h.error, h.consequence);
        }
      }
    if (link) l->links_.emplace_back(link);
  }
  return l;
}

std::map<uint64_t, ow_reclaim_stat> Loader::reclaim_stats() const {
  std::map<uint64_t, ow_reclaim_stat> out;
  int fd = bpf_map__fd(skel_->maps.reclaim_stalls);
  if (fd < 0) return out;  // not created: the reclaim hooks were not asked for
  __u64 key, next;
  __u64* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    ow_reclaim_stat v;
    if (bpf_map_lookup_elem(fd, &next, &v) == 0) out[next] = v;
    key = next;
    prev = &key;
  }
  return out;
}

std::optional<ow_reclaim_stat> Loader::reclaim_stat(uint64_t memcg_id) const {
  __u64 key = memcg_id;
  ow_reclaim_stat v;
  int fd = bpf_map__fd(skel_->maps.reclaim_stalls);
  if (fd < 0 || bpf_map_lookup_elem(fd, &key, &v) != 0) return std::nullopt;
  return v;
}

Status Loader::pin_maps(const std::string& dir) {
  if (auto s = ensure_pin_dir(dir, &pin_dirs_made_); !s) return s;
  for (bpf_map* m : {skel_->maps.reclaim_stalls}) {
    if (bpf_map__fd(m) < 0) continue;  // not created (its hooks were not asked for)
    std::string p = dir + "/" + bpf_map__name(m);
    ::unlink(p.c_str());  // a stale pin from a crashed run
    int err = bpf_map__pin(m, p.c_str());
    if (err) {
      auto e = sys_error("pin map at", p, -err);
      unpin_maps();  // what was pinned, and the dirs made for it
      return e;
    }
    pinned_.push_back(p);
  }
  return {};
}

void Loader::unpin_maps() {
  for (const auto& p : pinned_) ::unlink(p.c_str());
  pinned_.clear();
  // Only the dirs pin_maps made, deepest first, and only when empty
  // (bpftool users, or the hint map, may pin there too).
  for (auto it = pin_dirs_made_.rbegin(); it != pin_dirs_made_.rend(); ++it) ::rmdir(it->c_str());
  pin_dirs_made_.clear();
}

Loader::~Loader() {
  unpin_maps();
  links_.clear();  // detach before the programs go away
  if (skel_) oomwatch_bpf__destroy(skel_);
}

bool Loader::births_attached() const {
  for (const auto& h : hooks_)
    if (h.tracepoint == "cgroup_mkdir") return h.attached;
  return false;
}

int Loader::births_fd() const { return bpf_map__fd(skel_->maps.births); }
int Loader::birth_roots_fd() const { return bpf_map__fd(skel_->maps.birth_roots); }

int Loader::events_fd() const { return bpf_map__fd(skel_->maps.events); }

uint64_t Loader::stat(ow_stat s) const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  uint32_t key = s;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stats), &key, vals.data()) != 0) return 0;
  uint64_t sum = 0;
  for (auto v : vals) sum += v;
  return sum;
}

}  // namespace ow::bpf
