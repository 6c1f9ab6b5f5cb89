// Kernel feature probes, run before the skeleton is loaded so each hook can be
// given the program flavor this kernel accepts (tp_btf, else raw_tp, else skip).
#pragma once
#include <optional>
#include <string>

#include "util/result.hpp"

struct btf;

namespace ow::bpf {

class VmlinuxBtf {
 public:
  static Result<VmlinuxBtf> load();  // /sys/kernel/btf/vmlinux
  VmlinuxBtf(VmlinuxBtf&&) noexcept;
  ~VmlinuxBtf();
  // BTF id of typedef btf_trace_<tp>, or nullopt when the kernel has no such tracepoint.
  std::optional<int> trace_typedef(const std::string& tp) const;
  // Number of arguments of the tracepoint (without the leading void *ctx) and
  // whether argument i is a pointer.
  int trace_nargs(const std::string& tp) const;
  bool trace_arg_is_ptr(const std::string& tp, int i) const;
  struct btf* raw() const { return btf_; }

 private:
  explicit VmlinuxBtf(struct btf* b) : btf_(b) {}
  struct btf* btf_ = nullptr;
};

// Loads a two-instruction program of the given flavor for tracepoint `tp` and
// attaches it for an instant. ok() == the real program will load and attach.
Status probe_tp_btf(const VmlinuxBtf& btf, const std::string& tp);
Status probe_raw_tp(const std::string& tp);

}  // namespace ow::bpf
