#include "bpf/kfunc_call.hpp"

#include <bpf/libbpf.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "oomwatch.h"
#include "util/log.hpp"

namespace ow::bpf {
namespace {

std::atomic<int> g_rdonly_cast_id{0};

bool is_placeholder_call(const bpf_insn& i, int32_t placeholder) {
  return i.code == (BPF_JMP | BPF_CALL) && i.src_reg == 0 && i.imm == placeholder;
}

}  // namespace

Result<size_t> patch_kfunc_calls(std::vector<bpf_insn>& insns, int32_t placeholder, int kfunc_id) {
  size_t n = 0;
  for (auto& i : insns) {
    if (!is_placeholder_call(i, placeholder)) continue;
    if (kfunc_id <= 0) return sys_error("no kernel BTF id for the kfunc this program calls", {}, EINVAL);
    i.src_reg = BPF_PSEUDO_KFUNC_CALL;
    i.imm = kfunc_id;
    i.off = 0;  // vmlinux, not a module's BTF
    ++n;
  }
  return n;
}

void set_rdonly_cast_btf_id(int id) { g_rdonly_cast_id.store(id > 0 ? id : 0); }

int patch_rdonly_cast(bpf_program* prog) {
  const bpf_insn* p = bpf_program__insns(prog);
  std::vector<bpf_insn> insns(p, p + bpf_program__insn_cnt(prog));
  auto n = patch_kfunc_calls(insns, OW_HELPER_RDONLY_CAST, g_rdonly_cast_id.load());
  if (!n) {
    spdlog::debug("prog '{}': calls bpf_rdonly_cast, whose BTF id is not known here", bpf_program__name(prog));
    return -EINVAL;
  }
  if (*n == 0) return 0;
  return bpf_program__set_insns(prog, insns.data(), insns.size());
}

}  // namespace ow::bpf
