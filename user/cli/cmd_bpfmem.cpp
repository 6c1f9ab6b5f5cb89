// oomwatch bpf-mem [--json] [--watch DUR]: eBPF memory by map, program,
// owning process and charged memory cgroup; --watch then prints map
// creations and program loads as they happen (JSON lines) for DUR.
#include <CLI/CLI.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "bpf/loader.hpp"
#include "bpfmem/collect.hpp"
#include "bpfmem/events.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "oomwatch.skel.h"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

struct BpfMemOpts {
  bool json = false;
  std::string watch;
};

int watch_events(bpf::Loader& l, cg::IdCache& ids, std::chrono::nanoseconds dur) {
  bool attached = false;
  for (const auto& h : l.hooks()) attached = attached || (h.tracepoint == "syscalls/sys_exit_bpf" && h.attached);
  if (!attached) {
    for (const auto& h : l.hooks())
      if (h.tracepoint.rfind("syscalls/", 0) == 0 && !h.error.empty())
        return fail(kExitEnv, "cannot watch bpf() calls: " + h.error, "mount -t tracefs tracefs /sys/kernel/tracing");
    return fail(kExitEnv, "cannot watch bpf() calls: syscall tracepoints not attached");
  }
  auto rr = bpfmem::ObjEventReader::open(bpf_map__fd(l.skel()->maps.bpf_obj_events), [&](const ow_bpf_obj_event& e) {
    print_line(json_line(bpfmem::to_json(e, ids.path(e.memcg_id))));
  });
  if (!rr) return fail(kExitEnv, rr.error());
  install_stop_handlers();
  auto end = std::chrono::steady_clock::now() + dur;
  while (!g_stop.load() && std::chrono::steady_clock::now() < end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    auto n = (*rr)->poll(static_cast<int>(std::clamp<int64_t>(left.count(), 1, 200)));
    if (!n) return fail(kExitEnv, n.error());
  }
  return kExitOk;
}

int run_bpfmem(const BpfMemOpts& o) {
  std::chrono::nanoseconds watch{0};
  if (!o.watch.empty()) {
    auto d = parse_duration(o.watch);
    if (!d) return fail(kExitUsage, "--watch: " + d.error().message());
    watch = *d;
  }
  if (int rc = require_root("bpf-mem (reading every BPF object)")) return rc;
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error());
  bpf::LoaderOptions lo;
  lo.oom_events = false;
  lo.bpfmem = true;
  lo.bpfmem_events = watch.count() > 0;
  auto l = bpf::Loader::open(lo);
  if (!l) return fail(kExitEnv, l.error(), "run 'oomwatch --log-level debug bpf-mem' for libbpf's log");
  cg::IdCache ids(*h);
  auto t = bpfmem::collect(**l, ids);
  if (!t) return fail(kExitEnv, t.error());
  if (o.json) {
    print_line(json_line(bpfmem::to_json(*t)));
  } else {
    for (const auto& line : bpfmem::to_text(*t)) print_line(line);
  }
  return watch.count() > 0 ? watch_events(**l, ids, watch) : kExitOk;
}

}  // namespace

void add_bpfmem(CLI::App* sub, Action& action) {
  auto* o = on_run<BpfMemOpts>(sub, action, run_bpfmem);
  sub->add_flag("--json", o->json, "one JSON object: maps, programs, by_process, by_cgroup, total_bytes");
  sub->add_option("--watch", o->watch, "then print map creations and program loads as JSON lines for this long, e.g. 30s")
      ->type_name("DUR");
}

}  // namespace ow::cli
