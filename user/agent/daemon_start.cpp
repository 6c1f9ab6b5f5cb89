// The agent's start: the lock and crash recovery first, then every part in
// the order the node's safety needs (the guardian before the first change,
// threads after the guardian's fork), the first snapshot, then ready.
#include "agent/daemon_impl.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "bpf/bpffs.hpp"
#include "exporter/listener.hpp"
#include "util/listen.hpp"

namespace ow::agent::detail {
namespace {

// Records per walk segment for this node: the default, or room for every
// memory cgroup it has now and a quarter more, in steps of 4,096 records
// (512 KiB; at most 262,144, 32 MiB of address space, only the slots
// written are resident). A node past one segment walks its first segment's
// cgroups again for each further one, and every segment rewrites every
// record (records left standing need one segment): at 30,000 cgroups the
// default 16,384 made each walk cost more than twice what one segment
// does. Cgroups created later than this count may again need two.
uint32_t snapshot_cap_for_node(uint32_t dflt) {
  std::ifstream in("/proc/cgroups");
  std::string name, rest;
  long hier = 0, num = 0;
  while (in >> name) {
    if (name == "memory" && in >> hier >> num && num > 0) {
      constexpr long kStep = 4096, kMax = 262144;
      long want = (num + num / 4 + kStep - 1) / kStep * kStep;
      return static_cast<uint32_t>(std::clamp<long>(want, dflt, kMax));
    }
    std::getline(in, rest);
  }
  return dflt;  // unreadable: the default, which works at any size
}

}  // namespace

Status Daemon::start() {
  if (auto s = take_node(); !s) return s;
  if (auto s = open_kernel_side(); !s) return s;
  if (auto s = open_services(); !s) return s;
  if (auto s = watch_events(); !s) return s;
  if (auto s = start_threads(); !s) return s;
  if (auto s = go_ready(); !s) return s;
  return {};
}

// The state dir and its lock, then crash recovery: nothing a previous run
// left paused, throttled or hinted stays so. The guardian starts before the
// first change this run makes.
Status Daemon::take_node() {
  if (auto s = mkdir_p(o_.state_dir); !s) return s;
  if (auto s = check_state_dir(o_.state_dir); !s) return s;
  auto lock = failsafe::AgentLock::acquire(paths_.lock_file(), std::chrono::milliseconds(o_.lock_wait_ms));
  if (!lock) return refuse(lock.error());
  lock_.emplace(std::move(*lock));
  // What would otherwise stop the agent after its programs are loaded, and
  // whose fix is known, refuses it now, with nothing loaded or created: the
  // /metrics port (bound now, served once the threads start) and the pin dir.
  if (!cfg_.listen.empty()) {
    auto a = parse_listen(cfg_.listen);
    if (!a) return app_error("listen: " + a.error().message());
    auto fd = exporter::bind_listener(*a);
    if (!fd) return refuse(fd.error());
    listener_ = std::move(*fd);
  }
  if (!o_.pin_dir.empty())
    if (auto s = bpf::check_pin_dir(o_.pin_dir); !s) return refuse(s.error());
  // Crash recovery first: nothing of a previous run may stay paused, throttled or hinted.
  auto restored = failsafe::restore_node(h_, paths_);
  if (restored.total() > 0)
    spdlog::warn("a previous run left the node changed: restored {} setting(s), {} limit(s), {} GOMEMLIMIT "
                 "hint(s), {} pin(s)",
                 restored.settings, restored.limits, restored.hints, restored.pins);
  if (!restored.problems.empty()) return app_error("could not put back what a previous run left: " + restored.problems.front());
  if (auto s = journal_.load(); !s) return s;
  for (const auto& w : failsafe::protect_self()) spdlog::warn("self-protection: {}", w);
  // Fixed malloc thresholds: blocks from 256 KiB (a snapshot's sample vector,
  // 5 MiB at 30,000 cgroups; the roll-up's rows) are mapped on their own and
  // unmapped when freed, and a free heap top past 1 MiB is given back at
  // once. glibc's defaults rise with the largest block freed: it then keeps
  // such blocks in the heap and up to twice that size free at its top,
  // which at 30,000 cgroups was 10 MiB of the peak RSS until the next
  // minute's malloc_trim.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  // This thread runs the loop; threads started from here on start normal (util/sched.hpp).
  if (auto pr = raise_thread_priority(cfg_.loop_priority); !pr.warning.empty())
    spdlog::warn("event loop priority: {}", pr.warning);
  spdlog::debug("event loop priority: {}", thread_priority_text());
  // Before the first change to the node: whatever ends the agent, the guardian puts it back.
  if (cfg_.enforce || o_.hints) {
    auto g = failsafe::Guardian::start(h_, paths_, lock_->fd());
    if (!g) return g.error();
    guardian_.emplace(std::move(*g));
    spdlog::debug("guardian pid {} restores the node if the agent dies", guardian_->pid());
  }
  return {};
}

// The managed roots, the policy's parameters, the event loop and its
// signals, the BPF object, the OOM events and the sampler.
Status Daemon::open_kernel_side() {
  std::vector<std::string> resolved;
  for (const auto& m : cfg_.manage) {
    auto r = h_.resolve(m);
    if (!r) return r.error();
    resolved.push_back(*r);
  }
  params_ = config::to_params(cfg_);
  params_.page_bytes = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  params_.machine_memory_bytes = gomemlimit::read_mem_total().value_or(0);

  auto loop = Loop::create();
  if (!loop) return loop.error();
  loop_.emplace(std::move(*loop));
  if (auto s = loop_->handle_signals(
          [] { spdlog::info("SIGHUP: the agent stays up (restart it to apply a changed config)"); });
      !s)
    return s;
  ManagedChildren::Settings kid_set{rescue_active(), cfg_.v1_pause_deadline_ns, cfg_.interval_ns};
  ManagedChildren::Hooks kid_hooks;
  kid_hooks.paused = [this](const std::string& p) {
    if (incidents_) incidents_->paused(p);
  };
  kid_hooks.v2_events = [this](const std::vector<std::string>& ps) {
    if (incidents_) incidents_->v2_events(ps);
  };
  kid_hooks.root_released = [this](const std::string& p, int64_t us) {
    if (incidents_) incidents_->root_released(p, us);
  };
  kid_hooks.dropped = [this](const std::string& p) { on_child_gone(p); };
  kids_ = std::make_unique<ManagedChildren>(h_, journal_, *loop_, std::move(resolved), kid_set, std::move(kid_hooks));
  const auto& roots = kids_->roots();

  bpf::LoaderOptions wanted;
  wanted.oom_events = true;
  wanted.snapshots = true;
  wanted.memcg_v1 = h_.version() == cg::Version::V1;
  wanted.reclaim = true;
  wanted.bpfmem = o_.hints;  // eBPF memory per cgroup, for the hints
  wanted.births = rescue_active() && !roots.empty();  // children armed at birth, not at the next walk
  wanted.snap_cap = snapshot_cap_for_node(wanted.snap_cap);
  auto loader = bpf::Loader::open(wanted);
  if (!loader) return loader.error();
  loader_ = std::move(*loader);
  for (const auto& hk : loader_->hooks()) spdlog::info("hooked {} via {}", hk.tracepoint, hk.mode);
  if (!o_.pin_dir.empty()) {
    if (auto s = loader_->pin_maps(o_.pin_dir); !s)
      spdlog::warn("maps not pinned for bpftool: {}", s.error().message());
    else
      pinned_ = true;
  }

  auto oom = OomSource::attach(*loader_, h_, [this](const bpf::OomKill& k) { on_kill(k); });
  if (!oom) return oom.error();
  oom_ = std::move(*oom);
  auto smp = sampler::Sampler::open(h_, loader_.get());
  if (!smp) return smp.error();
  sampler_ = std::move(*smp);
  if (cfg_.cpu_budget_pct > 0)
    spdlog::info("sampling every {} through {}, stretched up to {} to keep the agent within {}% of a core",
                 format_duration(std::chrono::nanoseconds(cfg_.interval_ns)), sampler_->source_name(),
                 format_duration(std::chrono::nanoseconds(policy::ceiling_for(cfg_.interval_ns))), cfg_.cpu_budget_pct);
  else
    spdlog::info("sampling every {} through {} (no CPU budget)", format_duration(std::chrono::nanoseconds(cfg_.interval_ns)),
                 sampler_->source_name());
  return {};
}

// The GOMEMLIMIT hints, the history database with the donor history and
// the recommendation worker, the audit log and the incident tracer.
Status Daemon::open_services() {
  const auto& roots = kids_->roots();
  if (o_.hints) {
    hintsvc::HintOptions hint_opts;
    hint_opts.period_ns = cfg_.gomemlimit_interval_ns;
    hint_opts.roots = roots;
    hint_opts.loader = loader_.get();
    hint_opts.publish.hint_dir = gomemlimit::hint_dir_in(o_.state_dir);
    // Without a bpffs pin dir the map is skipped (xattr and file only).
    hint_opts.publish.pin_path = gomemlimit::hint_pin_in(o_.pin_dir.empty() ? o_.state_dir : o_.pin_dir);
    auto hs = hintsvc::HintRunner::open(h_, hint_opts);
    if (!hs)
      spdlog::warn("no GOMEMLIMIT hints: {}", hs.error().message());
    else
      hints_ = std::move(*hs);
  }
  if (!cfg_.db.empty() && cfg_.db != "none") {
    store::StoreOptions so;
    so.cache_kib = store::kAgentCacheKib;
    auto db = store::HistoryStore::open(cfg_.db, so);
    if (!db) return db.error();
    db_.emplace(std::move(*db));
    spdlog::info("history in {}", cfg_.db);
    if (!roots.empty()) {
      DonorHistoryOptions donor_opts;
      donor_opts.db_path = cfg_.db;
      donor_opts.roots = roots;
      donor_opts.window_ns = cfg_.donor_window_ns;
      auto d = DonorHistory::open(donor_opts);
      if (!d)
        spdlog::warn("donors judged on the live window only: {}", d.error().message());
      else
        donor_hist_ = std::move(*d);
    }
    recsvc::RecommendWorkerOptions rec_opts;
    rec_opts.db_path = cfg_.db;
    rec_opts.roots = roots;
    rec_opts.interval_ns = cfg_.recommend_interval_ns;
    rec_opts.pods_log_dir = cfg_.recommend_pods_log_dir;
    auto worker = recsvc::RecommendWorker::open(rec_opts, h_);
    if (!worker)
      spdlog::warn("no recommendations: {}", worker.error().message());
    else
      recs_ = std::move(*worker);
    if (recs_ && cfg_.recommend_enforce) applier_.emplace(act_, cfg_.audit_log);
  }
  if (auto dir = parent_dir(cfg_.audit_log); !dir.empty())
    if (auto s = mkdir_p(dir); !s) return s;
  // The audit log must be writable (and not a symlink) before any decision is made.
  if (auto s = check_record_file(cfg_.audit_log, "audit log"); !s) return s;
  if (cfg_.trace_on_incident_ns > 0)
    itrace_ = std::make_unique<IncidentTrace>(h_, cfg_.audit_log, std::chrono::nanoseconds(cfg_.trace_on_incident_ns));
  return {};
}

// The loop's event sources: OOM kills; the children's v2 memory.events and
// births, then the managed roots armed (rescue/children.hpp).
Status Daemon::watch_events() {
  if (auto s = loop_->add_fd(oom_->epoll_fd(), [this] {
        if (auto p = oom_->poll(0); !p) spdlog::error("ring buffer: {}", p.error().message());
      });
      !s)
    return s;
  return kids_->watch(*loader_);
}

// Threads, after the guardian's fork: /metrics, hints, history writes, the
// v1 pause deadline's timer.
Status Daemon::start_threads() {
  // After the guardian's fork: the server has a thread of its own.
  if (auto m = exporter::MetricsHooks::start(cfg_, kids_->roots(), std::move(listener_)); !m)
    return m.error();
  else
    metrics_ = std::move(*m);
  // The first round before ready; then the hint thread (after the
  // guardian's fork) keeps them current, off the rescue path.
  if (hints_) hints_->start(metrics_ ? metrics_->hint_sink() : hintsvc::HintRunner::RoundSink{});
  // After the guardian's fork: the writer has a thread of its own.
  if (db_) {
    history_ = std::make_unique<store::HistoryWriter>(std::move(*db_));
    db_.reset();
  }
  names_ = std::make_unique<k8s::NameCache>(cfg_.recommend_pods_log_dir.empty() ? k8s::kDefaultLogDir
                                                                                : cfg_.recommend_pods_log_dir);
  IncidentServices svc{loader_.get(), donor_hist_.get(), metrics_.get(), hints_.get(), itrace_.get(), names_.get()};
  incidents_ = std::make_unique<Incidents>(h_, cfg_, params_, act_, window_, *kids_, svc);
  if (rescue_active() && h_.version() == cg::Version::V1) {
    auto d = loop_->add_timer(std::chrono::milliseconds(20), [this] { incidents_->check_paused(); });
    if (!d) return d.error();
  }
  return {};
}

// The first snapshot, here, then snapshots on their own thread; the ready
// file and systemd's READY=1.
Status Daemon::go_ready() {
  const auto& roots = kids_->roots();
  if (roots.empty())
    spdlog::info("no --manage subtree: observing only (OOM kills, history)");
  else
    spdlog::info("managing children of {} ({}, reservation {}, rescue {}, audit {})", fmt::join(roots, ", "),
                 cfg_.enforce ? "enforcing" : "dry run: nothing is written", policy::to_string(cfg_.reservation),
                 cfg_.rescue ? "on" : "off", cfg_.audit_log);
  on_tick();  // the first snapshot, here, before ready
  {  // The managed children's names before the first rescue (start-up, not a rescue's path).
    std::vector<std::string> known;
    for (const auto& [p, c] : kids_->all()) known.push_back(p);
    names_->learn(known, mono_ns());
  }
  // Then snapshots on their own thread (after the guardian's fork and the
  // signal mask), the loop woken through an eventfd; a timer on the loop
  // where the worker cannot start.
  // Each snapshot also names new Kubernetes cgroups, on the worker's thread:
  // audit lines look the names up and never read the kubelet's log tree.
  auto learn = [names = names_.get()](const sampler::Snapshot& s) {
    // Only paths with "kubepods" in them can be named (parse_cgroup_path
    // needs that component): a node without Kubernetes copies nothing.
    std::vector<std::string> paths;
    for (const auto& x : s.samples)
      if (x.cgroup.find("kubepods") != std::string::npos) paths.push_back(x.cgroup);
    names->learn(paths, mono_ns());
  };
  policy::CpuBudget budget{cfg_.cpu_budget_pct / 100, cfg_.interval_ns, policy::ceiling_for(cfg_.interval_ns)};
  if (auto w = sampler::SnapshotWorker::start(*sampler_, budget, learn); w) {
    snapper_ = std::move(*w);
    if (auto s = loop_->add_fd(snapper_->fd(), [this] { on_snapshot_ready(); }); !s) return s;
  } else {
    spdlog::warn("snapshots on the event loop: {}", w.error().message());
    auto t = loop_->add_timer(std::chrono::nanoseconds(cfg_.interval_ns), [this] { on_tick(); });
    if (!t) return t.error();
  }
  if (auto s = write_file_atomic(paths_.ready_file(), std::to_string(::getpid()) + "\n"); !s)
    spdlog::warn("ready file: {}", s.error().message());
  sd_notify_msg("READY=1");
  spdlog::info("ready ({} mode{})", cfg_.enforce ? "enforcing" : "observe-only", o_.hints ? ", GOMEMLIMIT hints" : "");
  return {};
}

}  // namespace ow::agent::detail
