#include "bpf/iter_cgroup.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <atomic>
#include <cstring>

#include "bpf/btf_raw.hpp"
#include "bpf/kfunc_call.hpp"
#include "util/log.hpp"

namespace ow::bpf {
namespace {

std::atomic<int> g_iter_cgroup_btf_id{0};

// Any type libbpf neither rejects (UNSPEC) nor parses the kernel's BTF for
// (TRACING, LSM, STRUCT_OPS); it never reaches the kernel.
constexpr bpf_prog_type kPlaceholderType = BPF_PROG_TYPE_RAW_TRACEPOINT;

int iter_cgroup_btf_id() {
  int id = g_iter_cgroup_btf_id.load();
  if (id > 0) return id;
  auto found = kernel_btf_func_id("bpf_iter_cgroup");  // one pass over the raw BTF, not a parse
  if (!found) {
    spdlog::debug("find bpf_iter_cgroup: {}", found.error().message());
    return -EIO;
  }
  if (*found <= 0) return -ESRCH;
  g_iter_cgroup_btf_id.store(*found);
  return *found;
}

// Called by libbpf for each iter/cgroup program right before BPF_PROG_LOAD.
int prepare_iter_cgroup(bpf_program* prog, bpf_prog_load_opts* opts, long /*cookie*/) {
  if (opts->attach_btf_id == 0) {  // not resolved by libbpf (bpf_program__set_attach_target)
    int id = iter_cgroup_btf_id();
    if (id < 0) {
      spdlog::debug("prog '{}': no attach target: the kernel BTF has no bpf_iter_cgroup ({})",
                    bpf_program__name(prog), std::strerror(-id));
      return id;
    }
    opts->attach_btf_id = static_cast<__u32>(id);
    opts->attach_btf_obj_fd = 0;  // vmlinux
  }
  opts->expected_attach_type = BPF_TRACE_ITER;
  if (int e = patch_rdonly_cast(prog); e) return e;
  return bpf_program__set_type(prog, BPF_PROG_TYPE_TRACING);
}

}  // namespace

Status use_iter_cgroup_handler() {
  static const int handler = [] {
    LIBBPF_OPTS(libbpf_prog_handler_opts, o, .prog_prepare_load_fn = prepare_iter_cgroup);
    return libbpf_register_prog_handler("iter/cgroup", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, &o);
  }();
  if (handler < 0) return sys_error("register the iter/cgroup section handler", {}, -handler);
  return {};
}

void set_iter_cgroup_btf_id(int id) {
  if (id > 0) g_iter_cgroup_btf_id.store(id);
}

Status defer_iter_cgroup_target(bpf_program* p) {
  if (int e = bpf_program__set_type(p, kPlaceholderType); e) return sys_error("set program type", {}, -e);
  return {};
}

}  // namespace ow::bpf
