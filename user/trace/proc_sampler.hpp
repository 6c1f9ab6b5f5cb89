// The fallback where the kernel has no memcg stat tracepoints: per-process
// RSS (RssAnon, RssFile, RssShmem of /proc/PID/status) of every task in the
// cgroup's subtree, sampled; rises count as charged, falls (and the last RSS
// of a process that left or exited) as uncharged. A process first seen after
// the start counts, of what it already holds, only the anon pages it dirtied
// itself (Private_Dirty of smaps_rollup, read once): a fork shares its
// parent's pages, which are nobody's new charge. Coarser than tracing: it
// sees resident pages of each process, not charges (page cache a process
// did not map is invisible, shared pages count in every process mapping them).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cgroup/hierarchy.hpp"
#include "trace/usage.hpp"
#include "util/result.hpp"

namespace ow::trace {

struct RssSample {
  std::string comm;  // Name: field (escaped by the kernel: "\n" -> "\\n")
  uint64_t anon = 0, file = 0, shmem = 0;  // bytes
};

// Parses /proc/PID/status; nullopt when it has no RssAnon (kernel thread).
std::optional<RssSample> parse_status(std::string_view text);
// Private_Dirty of /proc/PID/smaps_rollup, in bytes (nullopt: not there).
std::optional<uint64_t> parse_private_dirty(std::string_view smaps_rollup);

class ProcSampler {
 public:
  ProcSampler(cg::Hierarchy h, std::string rel, std::string proc_root = "/proc")
      : h_(std::move(h)), rel_(std::move(rel)), proc_(std::move(proc_root)) {}
  // Reads every process of the subtree once. The first call sets the
  // baseline (processes already there count from their RSS then).
  Status sample();
  const Totals& totals() const { return totals_; }
  uint64_t unreadable() const { return unreadable_; }

 private:
  void account(uint32_t tgid, const RssSample& now);
  cg::Hierarchy h_;
  std::string rel_, proc_;
  bool first_ = true;
  std::map<uint32_t, RssSample> last_;
  Totals totals_;
  uint64_t unreadable_ = 0;
};

}  // namespace ow::trace
