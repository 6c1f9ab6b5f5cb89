#include "trace/bpf_tracer.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "bpf/obj.hpp"
#include "bpf/probe.hpp"
#include "oomwatch.h"
#include "trace.skel.h"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::trace {

static_assert(sizeof(ow_trace_proc) == 2 * OW_TRACE_KINDS * 8 + OW_COMM_LEN, "ABI: struct ow_trace_proc");
static_assert(static_cast<int>(Kind::Anon) == OW_TRACE_ANON && static_cast<int>(Kind::Shmem) == OW_TRACE_SHMEM &&
                  static_cast<int>(Kind::Kernel) == OW_TRACE_KERNEL && static_cast<int>(Kind::Slab) == OW_TRACE_SLAB,
              "the report's kinds follow enum ow_trace_kind (file apart: FILE_PAGES - SHMEM)");

Result<std::vector<std::string>> missing_tracepoints(const std::vector<std::string>& names) {
  auto btf = bpf::VmlinuxBtf::load();
  if (!btf) return btf.error();
  std::vector<std::string> missing;
  for (const auto& n : names)
    if (!btf->trace_typedef(n)) missing.push_back(n);
  return missing;
}

namespace {

// One tracepoint's two flavors of program.
struct Hook {
  const char* tracepoint;
  bpf_program* btf;
  bpf_program* raw;
};

std::vector<Hook> hooks(trace_bpf* s) {
  return {{"mod_memcg_state", s->progs.owt_state_btf, s->progs.owt_state_raw},
          {"mod_memcg_lruvec_state", s->progs.owt_lruvec_btf, s->progs.owt_lruvec_raw}};
}

// Opens, configures and loads the skeleton with one flavor's programs, for
// the tracepoints this kernel has (the others' programs are not loaded).
Result<trace_bpf*> load(uint64_t target_id, bool btf_flavor, const std::vector<std::string>& missing) {
  trace_bpf* s = trace_bpf__open();
  if (!s) return sys_error("open the trace BPF object");
  s->rodata->target_cgroup_id = target_id;
  s->rodata->page_size = static_cast<__u64>(::sysconf(_SC_PAGESIZE));
  for (const auto& h : hooks(s)) {
    bool have = std::find(missing.begin(), missing.end(), h.tracepoint) == missing.end();
    bpf_program__set_autoload(h.btf, have && btf_flavor);
    bpf_program__set_autoload(h.raw, have && !btf_flavor);
  }
  if (int err = trace_bpf__load(s); err) {
    trace_bpf__destroy(s);
    return sys_error(std::string("load the trace programs (") + (btf_flavor ? "tp_btf" : "raw_tp") + ")", "", -err);
  }
  return s;
}

// Runs the iter/cgroup program once on the target alone: it stores the
// target's depth, which the tracepoint programs need before they count.
Status learn_level(trace_bpf* s, const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open cgroup", dir);
  union bpf_iter_link_info linfo = {};
  linfo.cgroup.cgroup_fd = static_cast<__u32>(fd.get());
  linfo.cgroup.order = BPF_CGROUP_ITER_SELF_ONLY;
  LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, .link_info_len = sizeof linfo);
  Link link(bpf_program__attach_iter(s->progs.owt_level, &opts));
  if (!link.get()) return sys_error("attach the cgroup iterator at", dir);
  if (auto st = bpf::run_iter(link.get(), "the cgroup iterator at", dir); !st) return st;
  if (s->data->target_level < 0) return app_error("the cgroup iterator did not see the cgroup", dir);
  return {};
}

}  // namespace

Result<std::unique_ptr<BpfTracer>> BpfTracer::open(uint64_t target_id, const std::string& dir, bool raw_only) {
  auto missing = missing_tracepoints(kStatTracepoints);
  if (!missing) return missing.error();
  if (missing->size() == kStatTracepoints.size())
    return app_error("this kernel has no memcg stat tracepoint " + missing->front() + " (they came in 6.13)");
  std::unique_ptr<BpfTracer> t(new BpfTracer());
  int n = libbpf_num_possible_cpus();
  t->ncpus_ = n > 0 ? n : 1;
  // What the missing tracepoint would have measured is reported as not measured.
  t->kinds_.fill(true);
  for (const auto& m : *missing) {
    spdlog::warn("trace: this kernel has no tracepoint {}: its kinds are not measured", m);
    if (m == "mod_memcg_state") t->kinds_[static_cast<int>(Kind::Kernel)] = false;
    if (m == "mod_memcg_lruvec_state")
      for (Kind k : {Kind::Anon, Kind::File, Kind::Shmem, Kind::Slab}) t->kinds_[static_cast<int>(k)] = false;
  }
  Error first;
  for (bool btf_flavor : {true, false}) {
    if (btf_flavor && raw_only) {
      first = app_error("tp_btf not asked for");
      continue;
    }
    auto s = load(target_id, btf_flavor, *missing);
    if (!s) {
      if (btf_flavor) first = s.error();
      else return Error{s.error().err, s.error().what + " after " + first.message(), ""};
      continue;
    }
    t->skel_ = *s;
    t->mode_ = btf_flavor ? "tp_btf" : "raw_tp";
    if (auto l = learn_level(*s, dir); !l) return l.error();
    Error attach_err;
    for (const auto& h : hooks(*s)) {
      bpf_program* p = btf_flavor ? h.btf : h.raw;
      if (!bpf_program__autoload(p)) continue;
      bpf_link* l = bpf_program__attach(p);
      if (!l) {
        attach_err = sys_error(std::string("attach ") + t->mode_ + "/" + h.tracepoint, "", errno);
        break;
      }
      t->links_.emplace_back(l);
    }
    if (attach_err.what.empty()) {
      spdlog::debug("trace: attached {} to cgroup id {} (level {})", t->mode_, target_id, (*s)->data->target_level);
      return t;
    }
    t->detach();
    if (!btf_flavor) return Error{attach_err.err, attach_err.what + " after " + first.message(), ""};
    first = attach_err;
  }
  return first;
}

BpfTracer::~BpfTracer() { detach(); }

void BpfTracer::detach() {
  links_.clear();
  if (skel_) trace_bpf__destroy(skel_);
  skel_ = nullptr;
}

uint64_t BpfTracer::stat(uint32_t idx) const {
  if (!skel_) return 0;
  std::vector<uint64_t> v(static_cast<size_t>(ncpus_));
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.trace_stats), &idx, v.data()) != 0) return 0;
  uint64_t sum = 0;
  for (auto x : v) sum += x;
  return sum;
}

uint64_t BpfTracer::events() const { return stat(OW_TRACE_STAT_EVENTS); }
// lost to a full map, or skipped as too deep below the target to walk up
uint64_t BpfTracer::drops() const { return stat(OW_TRACE_STAT_DROPS) + stat(OW_TRACE_STAT_DEEP); }

Result<Totals> BpfTracer::read() const {
  Totals out;
  if (!skel_) return out;
  int fd = bpf_map__fd(skel_->maps.trace_procs);
  std::vector<ow_trace_proc> vals(static_cast<size_t>(ncpus_));
  __u32 key = 0, next = 0;
  __u32* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(fd, &key, vals.data()) != 0) continue;  // gone between the two calls
    std::array<KindBytes, OW_TRACE_KINDS> raw{};
    std::string comm;
    for (const auto& v : vals) {
      for (int k = 0; k < OW_TRACE_KINDS; k++) {
        raw[k].charged += v.charged[k];
        raw[k].uncharged += v.uncharged[k];
      }
      if (comm.empty() && v.comm[0]) comm.assign(field_bytes(v.comm));
    }
    ProcUsage u;
    u.tgid = key;
    u.comm = std::move(comm);
    u.kinds[static_cast<int>(Kind::Anon)] = raw[OW_TRACE_ANON];
    u.kinds[static_cast<int>(Kind::Shmem)] = raw[OW_TRACE_SHMEM];
    u.kinds[static_cast<int>(Kind::Kernel)] = raw[OW_TRACE_KERNEL];
    u.kinds[static_cast<int>(Kind::Slab)] = raw[OW_TRACE_SLAB];
    // page cache without the shmem pages the kernel counts in it too
    auto& f = u.kinds[static_cast<int>(Kind::File)];
    f.charged = raw[OW_TRACE_FILE_PAGES].charged - std::min(raw[OW_TRACE_FILE_PAGES].charged, raw[OW_TRACE_SHMEM].charged);
    f.uncharged =
        raw[OW_TRACE_FILE_PAGES].uncharged - std::min(raw[OW_TRACE_FILE_PAGES].uncharged, raw[OW_TRACE_SHMEM].uncharged);
    out.emplace(key, std::move(u));
  }
  return out;
}

}  // namespace ow::trace
