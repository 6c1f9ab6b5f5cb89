// GOMEMLIMIT hints in the daemon (`run --hints`): every period the hint of
// each target cgroup is recomputed (gomemlimit/calc.hpp, the same arithmetic
// and inputs as `oomwatch gomemlimit --cgroup P`) and published in the three
// places of gomemlimit/publish.hpp (xattr, /run file, pinned BPF map).
//
// Which cgroups get a hint (targets):
//   every cgroup under `roots` (each root selects itself and its descendants;
//   empty = the whole hierarchy) whose effective limit — the smallest limit
//   of the cgroup and its ancestors — is below the machine's memory. A cgroup
//   with no limit anywhere would get a hint computed from MemTotal (the one-shot command's
//   fallback, what the one-shot command prints); publishing that for every
//   unlimited system cgroup of a node is noise, so it is opt-in
//   (include_unlimited). A target whose limit leaves no room for a positive
//   hint (non-heap memory + margin >= limit), a cgroup that is no longer a
//   target and a removed cgroup get their old hint withdrawn, never a stale
//   or absurd value.
//
// Cost per tick. The agent ticks from its last snapshot (tick(now, snap)):
//   - cgroups, ids, limits, memory.high, usage and inactive file come from the
//     snapshot (one BPF walk the agent takes anyway): no readdir, no limit file;
//   - memory.stat (+ v1 memory.kmem.usage_in_bytes) is read only for a target
//     that is new, whose usage or inactive file moved by more than
//     max(1 MiB, 1 %) since its last read, or whose effective limit changed;
//     figures older than kFiguresMaxAgeNs are re-read a few per tick; when
//     nothing an input depends on changed, the last breakdown is reused;
//   - eBPF memory: ONE iter/bpf_map walk plus one fdinfo read per map for all
//     cgroups, summed per subtree (maps charged to a cgroup or below it, the
//     rule of bpfmem::subtree_map_bytes); no /proc or bpffs scan;
//   - the xattr and the file are rewritten only when the value changed, when
//     the last write of them failed, and every republish_period_ns (in case
//     someone removed them); otherwise only the map entry is updated (its
//     ts_ns says when the hint was last confirmed). A rename over an existing
//     file is costly where /run is not tmpfs (ext4 flushes the data first:
//     ~2 ms per file measured here).
//   Without a snapshot (tick(now), as before the first one) it walks the
//   subtrees (readdir + fstatat, a limit read per level) and reads memory.stat
//   of every target. Measured by tests/bench/bench_hints.cpp (v1, kernel 6.18,
//   2 shared cores, 1,000 limited cgroups in 10 groups): steady tick from the
//   snapshot 2.6 ms, walking 40 ms, in the same run; the first tick, which
//   creates 1,000 files and xattrs, takes seconds (ext4 file creation).
//   last_tick() reports counts and the time spent.
//
// Wiring (hintsvc/runner.hpp runs it on its own thread for the daemon):
//   auto hints = HintService::open(h, {.roots = managed, .loader = &loader});
//   every second:             hints->tick(now, last_snapshot); hints->maybe_log(now);
//   lowering donor D to N:    if (hints->covers(D)) (void)hints->lower_before(D, N);
//                             write the limit; then (void)hints->refresh(D);
//   after raising C's limit:  (void)hints->refresh(C);
//   at exit:                  hints->shutdown();
//
// eBPF memory between ticks: refresh() and lower_before() reuse the last
// tick's per-subtree eBPF figures (a limit write does not move eBPF charges);
// before the first tick they run the map walk themselves.
//
// Timing for the daemon: Go programs read the hint by polling (tools/go
// gomemlimit.Follow, every 10 s by default), so after lower_before() the
// daemon should leave them that long to shrink before the limit write when
// it can (a pressure rescue may not).
//
// Threading: not thread-safe; call everything from one thread (hintsvc/runner.hpp's).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "cgroup/idcache.hpp"
#include "gomemlimit/calc.hpp"
#include "gomemlimit/figures.hpp"
#include "gomemlimit/publish.hpp"
#include "gomemlimit/tree.hpp"
#include "sampler/sample.hpp"
#include "util/meminfo.hpp"
#include "util/result.hpp"

namespace ow::bpf {
class Loader;
}

namespace ow::hintsvc {

struct HintOptions {
  int64_t period_ns = 30'000'000'000;       // tick() recomputes when this much time has passed
  int64_t log_period_ns = 300'000'000'000;  // maybe_log() writes the hint log lines (docs/cli.md) this often
  int64_t republish_period_ns = 300'000'000'000;  // unchanged hints: xattr and file rewritten this often
  // margin_fraction 0.05, ratio 0.80, cache_fraction 0.10: `oomwatch gomemlimit`'s defaults.
  gomemlimit::CalcParams params;
  // Relative paths ("/kubepods"); each selects itself and every descendant.
  // Empty: the whole hierarchy. A root that does not exist (yet) is skipped
  // with one warning and picked up once it appears.
  std::vector<std::string> roots;
  // Also hint cgroups with no limit below the machine's memory (from MemTotal).
  bool include_unlimited = false;
  // Where hints go. unpin_when_empty is forced off: the daemon keeps its pin
  // (bpftool keeps seeing the map) until shutdown().
  gomemlimit::PublishOptions publish;
  // eBPF memory per cgroup: a Loader opened with LoaderOptions::bpfmem (the
  // daemon's own), which must outlive the service; nullptr: the service opens
  // a Loader of its own with only the bpf_map iterator. measure_ebpf = false,
  // or no iterator: eBPF counted as 0 (logged once), as the one-shot command does.
  const bpf::Loader* loader = nullptr;
  bool measure_ebpf = true;
  // maybe_log(): at most this many per-cgroup lines at info level; the rest
  // at debug level, announced by one summary line.
  size_t log_lines_max = 32;
  std::string meminfo_path = kMeminfoPath;
};

// What one tick did (last_tick()).
struct HintTickReport {
  int64_t at_ns = 0;       // the now_ns it ran at
  size_t walked = 0;       // cgroups under the roots
  size_t targets = 0;      // of those, with an effective limit below machine memory (or all: include_unlimited)
  size_t published = 0;    // hint published, or confirmed unchanged (map entry only)
  size_t rewritten = 0;    // of those, xattr and file written (new or changed value, periodic rewrite, retry)
  size_t no_hint = 0;      // limit used up by non-heap memory: nothing published, old hint withdrawn
  size_t incomplete = 0;   // published, but some place refused it (the warning names it)
  size_t failed = 0;       // figures unreadable, or no place took the hint
  size_t withdrawn = 0;    // old hints removed: cgroup gone, no longer a target, or no positive hint
  size_t ebpf_maps = 0;    // maps seen by the iterator walk
  bool ebpf_measured = false;
  int64_t duration_ns = 0;  // the whole tick (CLOCK_MONOTONIC)
  int64_t walk_ns = 0, ebpf_ns = 0, publish_ns = 0;  // walk + limits; eBPF walk; stat + compute + publish
  bool from_snapshot = false;  // cgroups, limits and usage came from the agent's last snapshot
  size_t stat_reads = 0;       // targets whose memory.stat was read (the rest reused their last figures)
};

// What the service last published for one cgroup.
struct PublishedHint {
  std::string cgroup;  // relative path
  uint64_t cgroup_id = 0;
  uint64_t hint_bytes = 0;
  gomemlimit::Breakdown breakdown;
  int64_t written_ns = 0;  // now_ns of the last write of xattr and file
  bool complete = false;   // every place took the last write
};

class HintService {
 public:
  // Validates the options (params, roots), opens (creating and pinning when
  // needed) the hint map. The map is out of reach (no bpffs, no BPF): the
  // service still publishes the xattr and the file, and says so once.
  // Publishes nothing until the first tick().
  static Result<std::unique_ptr<HintService>> open(const cg::Hierarchy& h, HintOptions o);
  ~HintService();  // leaves published hints in place: call shutdown() to withdraw them

  // Recomputes and publishes the hints of all targets when period_ns has
  // passed since the last tick (or the first time, or force). now_ns: any
  // monotonic clock, the same on every call. Returns whether it ran.
  bool tick(int64_t now_ns, bool force = false);
  // The same from the agent's last snapshot (every cgroup, with usage, limit,
  // memory.high and inactive file): no walk and no limit file, and memory.stat
  // only of a target whose usage or inactive file moved by more than
  // max(1 MiB, 1 %) since its last read, whose limit changed, that is new, or
  // whose figures are older than kFiguresMaxAgeNs (a few of those per tick,
  // spread so that every target is re-read within that age). A root or
  // ancestor missing from the snapshot falls back to its files.
  bool tick(int64_t now_ns, const sampler::Snapshot& snap, bool force = false);
  static constexpr int64_t kFiguresMaxAgeNs = 600'000'000'000;  // 10 min

  // Right after the daemon changed `cgroup`'s limit (relative or absolute
  // path): recompute and publish its hint. Returns the published value. Error
  // (nothing published; an old hint is withdrawn): the cgroup is not under
  // the roots, is no target (no limit below machine memory), its limit leaves
  // no positive hint, or its figures are unreadable.
  Result<uint64_t> refresh(const std::string& cgroup);

  // Before the daemon lowers `cgroup`'s limit to new_limit_bytes: publishes
  // the hint computed as if the limit already were new_limit_bytes (min with
  // the current one; v2 memory.high still counts), so Go programs shrink
  // before the kernel enforces the new limit. Returns the published value.
  // Error: as refresh(); when no positive hint fits under new_limit_bytes the
  // current hint is left in place (the daemon's refresh() after the write
  // withdraws it) and the error names the figures.
  Result<uint64_t> lower_before(const std::string& cgroup, uint64_t new_limit_bytes);

  // Every log_period_ns (and on the first call): the hint log line (docs/cli.md), for
  // oomwatch's own cgroup (currentGOMEMLIMIT from this process's GOMEMLIMIT)
  // and for each hinted cgroup (currentGOMEMLIMIT=n/a: other processes'
  // environments are not read), through spdlog:
  //   memory usage stats: cgroup=/a totalUsage=20MiB totalLimit=64MiB ebpfUsage=0B
  //   currentGOMEMLIMIT=n/a recommendedGOMEMLIMIT=48.6MiB utilizationPercent=31
  // Returns whether it logged.
  bool maybe_log(int64_t now_ns);

  // Withdraws every hint this service published (xattr, file, map entry) and
  // unpins the map. The service publishes nothing afterwards.
  Status shutdown();

  // `cgroup` exists and is under the roots: refresh() and lower_before() may
  // publish for it (the daemon can skip donors outside without an error).
  bool covers(const std::string& cgroup) const;

  const HintTickReport& last_tick() const { return last_; }
  // By cgroup id.
  const std::map<uint64_t, PublishedHint>& published() const { return published_; }
  // The value published for `cgroup` (relative path), if any.
  std::optional<uint64_t> published_value(const std::string& cgroup) const;
  const HintOptions& options() const { return o_; }

 private:
  HintService(const cg::Hierarchy& h, HintOptions o);
  // eBPF memory per subtree, from the last map walk.
  struct Charges {
    bool measured = false;
    std::string source;  // "iter/bpf_map", or why not measured
    size_t maps = 0;
    std::unordered_map<std::string, uint64_t> subtree;  // path -> bytes of maps charged to it or below
  };
  // walked: id -> path of the cgroups this tick walked (others through ids_).
  Status collect_ebpf(const std::unordered_map<uint64_t, std::string>* walked = nullptr);
  uint64_t ebpf_for(const std::string& rel) const;
  bool selected(const std::string& rel) const;
  Result<std::string> resolve_target(const std::string& cgroup) const;
  // Publishes b for (rel, id), or withdraws the old hint when b has none.
  // may_confirm: an unchanged, complete, recent hint only has its map entry updated.
  enum class Outcome { Published, Rewritten, NoHint, Failed };
  Outcome publish_one(const std::string& rel, uint64_t id, const gomemlimit::Breakdown& b, bool may_confirm,
                      int64_t now_ns, std::string* why);
  bool withdraw(uint64_t id);
  Result<uint64_t> publish_now(const std::string& rel, gomemlimit::CalcInput in);

  // One tick in steps (service_tick.cpp); Round is the state they share.
  struct Round;
  bool run_tick(int64_t now_ns, bool force, const sampler::Snapshot* snap);
  gomemlimit::HintTree build_tree(const sampler::Snapshot* snap);
  void measure_ebpf(const gomemlimit::HintTree& tree, HintTickReport& rep);
  void publish_target(Round& r, const gomemlimit::HintTree& tree, size_t i);
  std::optional<gomemlimit::Breakdown> breakdown_of(Round& r, const gomemlimit::HintTree& tree, size_t i);
  void withdraw_stale(const std::set<uint64_t>& live);
  void warn_failures(const Round& r);

  cg::Hierarchy h_;
  HintOptions o_;
  std::unique_ptr<gomemlimit::Publisher> pub_;
  std::unique_ptr<bpf::Loader> own_loader_;
  const bpf::Loader* loader_ = nullptr;
  cg::IdCache ids_;
  Charges charges_;
  bool ebpf_warned_ = false;
  bool shut_ = false;
  std::optional<int64_t> last_tick_ns_, last_log_ns_;
  HintTickReport last_;
  std::map<uint64_t, PublishedHint> published_;
  std::map<uint64_t, std::string> no_hint_;  // id -> why, to warn once per change
  std::set<std::string> missing_roots_;       // warned once each
  // Each target's memory.stat figures as last read, and what the snapshot
  // said then: a tick from a snapshot re-reads only what moved.
  std::unordered_map<uint64_t, gomemlimit::TargetFigures> figures_;  // by cgroup id
  int64_t last_fail_warn_ns_ = 0;
  size_t last_failed_ = 0;
  size_t withdrawn_total_ = 0;
  size_t no_hint_warnings_ = 0;  // this tick
};

}  // namespace ow::hintsvc
