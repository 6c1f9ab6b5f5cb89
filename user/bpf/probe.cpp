#include "bpf/probe.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <utility>

#include "util/fd.hpp"

namespace ow::bpf {

Result<VmlinuxBtf> VmlinuxBtf::load() {
  struct btf* b = btf__load_vmlinux_btf();
  if (!b)
    return sys_error("no kernel BTF (needs CONFIG_DEBUG_INFO_BTF=y)", "/sys/kernel/btf/vmlinux");
  return VmlinuxBtf(b);
}

VmlinuxBtf::VmlinuxBtf(VmlinuxBtf&& o) noexcept : btf_(std::exchange(o.btf_, nullptr)) {}
VmlinuxBtf::~VmlinuxBtf() {
  if (btf_) btf__free(btf_);
}

std::optional<int> VmlinuxBtf::trace_typedef(const std::string& tp) const {
  int id = btf__find_by_name_kind(btf_, ("btf_trace_" + tp).c_str(), BTF_KIND_TYPEDEF);
  if (id <= 0) return std::nullopt;
  return id;
}

namespace {
// typedef btf_trace_X -> pointer -> func_proto
const struct btf_type* trace_proto(struct btf* b, int typedef_id) {
  const struct btf_type* t = btf__type_by_id(b, typedef_id);
  if (!t) return nullptr;
  t = btf__type_by_id(b, t->type);  // pointer
  if (!t || !btf_is_ptr(t)) return nullptr;
  t = btf__type_by_id(b, t->type);
  return (t && btf_is_func_proto(t)) ? t : nullptr;
}
}  // namespace

int VmlinuxBtf::trace_nargs(const std::string& tp) const {
  auto id = trace_typedef(tp);
  if (!id) return -1;
  const struct btf_type* p = trace_proto(btf_, *id);
  return p ? btf_vlen(p) - 1 : -1;
}

bool VmlinuxBtf::trace_arg_is_ptr(const std::string& tp, int i) const {
  auto id = trace_typedef(tp);
  if (!id) return false;
  const struct btf_type* p = trace_proto(btf_, *id);
  if (!p || i + 1 >= btf_vlen(p)) return false;
  const struct btf_param* params = btf_params(p);
  int tid = btf__resolve_type(btf_, params[i + 1].type);
  const struct btf_type* t = btf__type_by_id(btf_, tid);
  return t && btf_is_ptr(t);
}

namespace {
const struct bpf_insn kRet0[] = {
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};
}  // namespace

Status probe_tp_btf(const VmlinuxBtf& btf, const std::string& tp) {
  auto id = btf.trace_typedef(tp);
  if (!id) return app_error("tracepoint " + tp + " is not in this kernel's BTF");
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
              .attach_btf_id = static_cast<__u32>(*id));
  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_TRACING, "ow_probe", "GPL", kRet0, 2, &opts));
  if (!prog.valid()) return sys_error("load tp_btf/" + tp);
  UniqueFd link(bpf_raw_tracepoint_open(nullptr, prog.get()));
  if (!link.valid()) return sys_error("attach tp_btf/" + tp);
  return {};
}

Status probe_raw_tp(const std::string& tp) {
  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "ow_probe", "GPL", kRet0, 2, nullptr));
  if (!prog.valid()) return sys_error("load raw_tp/" + tp);
  UniqueFd link(bpf_raw_tracepoint_open(tp.c_str(), prog.get()));
  if (!link.valid()) return sys_error("attach raw_tp/" + tp);
  return {};
}

}  // namespace ow::bpf
