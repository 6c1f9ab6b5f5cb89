// The BPF side of `oomwatch trace`: its own skeleton (bpf/trace.bpf.c), loaded
// for one target cgroup, attached through bpf_link fds owned by this process
// and never pinned, so the programs go away when the tracer is destroyed or
// the process dies (any signal, SIGKILL included).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trace/usage.hpp"
#include "util/fd.hpp"
#include "util/noncopyable.hpp"
#include "util/result.hpp"

struct trace_bpf;

namespace ow::trace {

// The memcg stat tracepoints the tracer attaches to (kernel 6.13+), and the
// event one that counts events rather than bytes (listed by `check`).
inline const std::vector<std::string> kStatTracepoints = {"mod_memcg_state", "mod_memcg_lruvec_state"};
inline const std::vector<std::string> kAllMemcgTracepoints = {"mod_memcg_state", "mod_memcg_lruvec_state",
                                                              "count_memcg_events"};

// Which of `names` this kernel has (its BTF holds btf_trace_<name>).
Result<std::vector<std::string>> missing_tracepoints(const std::vector<std::string>& names);

class BpfTracer : NonCopyable {
 public:
  // target_id: kernfs id of the cgroup (inode of its directory); dir: that
  // directory (cgroupfs path), on which an iterator reads the cgroup's depth
  // in the kernel's own terms. tp_btf first, raw_tp when refused; raw_only:
  // raw_tp alone (the tests check both flavors).
  static Result<std::unique_ptr<BpfTracer>> open(uint64_t target_id, const std::string& dir, bool raw_only = false);
  ~BpfTracer();

  // Cumulative bytes per process since attach (summed over CPUs).
  Result<Totals> read() const;
  uint64_t events() const;
  uint64_t drops() const;
  const std::string& mode() const { return mode_; }  // "tp_btf" or "raw_tp"
  // The kinds measured: all, unless one of the two tracepoints is missing.
  const std::array<bool, kKinds>& kinds() const { return kinds_; }
  void detach();  // links destroyed and the object closed: nothing left attached

 private:
  BpfTracer() = default;
  uint64_t stat(uint32_t idx) const;
  trace_bpf* skel_ = nullptr;
  std::vector<Link> links_;
  std::string mode_;
  std::array<bool, kKinds> kinds_{};
  int ncpus_ = 1;
};

}  // namespace ow::trace
