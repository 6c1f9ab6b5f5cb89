// oomwatch collect --duration DUR [--interval DUR] [--cgroup P]... [--out FILE.csv|FILE.jsonl]
//                  [--source auto|bpf|files] [--json]
// Samples memory cgroups without the daemon: one snapshot per interval through
// the BPF cgroup iterator (cgroupfs files when the iterator cannot be loaded),
// of every cgroup or of each --cgroup P and its descendants.
// Snapshots are due at 0, interval, 2*interval, ... up to and including
// --duration; a slot a slow snapshot overran is skipped (counted, warned about),
// never bunched up.
// With --out: every snapshot is written to the sample file as it is taken
// (`oomwatch stats --input FILE` reads it back), then a one-line summary on
// stdout (--json: one JSON object, keys in the --json help).
// Without --out: the statistics of the run, exactly as `oomwatch stats`
// prints them (a table; --json: the JSON object of `stats --json`).
// Ctrl-C ends the run early and loses nothing: the file is closed (fsync) or
// the statistics printed for what was collected, exit 0.
// Exit codes: 2 for bad flags and unknown cgroups, 1 for the environment (no
// memory hierarchy, the file cannot be created or written, a snapshot fails).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "bpf/loader.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "cli/sampling.hpp"
#include "sampler/sampler.hpp"
#include "stats/report.hpp"
#include "stats/window.hpp"
#include "store/samplefile.hpp"
#include "stress/args.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

// Shorter intervals cost CPU and add nothing the kernel's watermark does not
// already tell (max uses it).
constexpr std::chrono::milliseconds kMinCollectInterval{50};

struct CollectOpts {
  std::string duration, interval = "1s", out, source = "auto", state_dir = kDefaultStateDir;
  std::vector<std::string> cgroups;
  bool json = false;
};

struct CollectPlan {
  std::chrono::nanoseconds duration{}, interval{};
};

// The flags alone, before anything touches the system.
Result<CollectPlan> parse_collect(const CollectOpts& o) {
  CollectPlan p;
  auto d = stress::duration_flag("--duration", o.duration, false);
  if (!d) return d.error();
  p.duration = *d;
  auto iv = stress::interval_flag("--interval", o.interval, kMinCollectInterval);
  if (!iv) return iv.error();
  p.interval = *iv;
  if (!o.out.empty()) {
    if (auto f = store::sample_format_for(o.out); !f)
      return app_error("--out " + o.out + ": the name must end in .jsonl or .csv (" + f.error().message() + ")");
  }
  return p;
}

using Clock = std::chrono::steady_clock;

// The BPF iterator when it loads, else cgroupfs files (with a warning saying why).
Result<OpenedSampler> open_collect_sampler(const cg::Hierarchy& h, const std::vector<std::string>& roots,
                                           const std::string& source, const std::string& state_dir) {
  auto o = open_sampler(h, roots, source, state_dir);
  if (o && !o->fallback_why.empty() && source == "auto")
    spdlog::warn("BPF cgroup iterator unavailable ({}); sampling cgroupfs files instead (same figures, "
                 "tens of times more CPU per cgroup){}",
                 o->fallback_why, ::geteuid() != 0 ? "; run as root for the iterator" : "");
  return o;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int run_collect(const CollectOpts& o) {
  auto plan = parse_collect(o);
  if (!plan) return fail(kExitUsage, plan.error());
  auto h = memory_hierarchy();
  if (!h)
    return fail(kExitEnv, h.error(),
                "collect needs a memory cgroup controller: cgroup v2 with 'memory' enabled, or a v1 memory hierarchy");
  std::vector<std::string> roots;
  if (int rc = resolve_flags(*h, "--cgroup", o.cgroups, roots)) return rc;

  install_stop_handlers();  // from here on, Ctrl-C ends the run cleanly
  std::optional<store::SampleFileWriter> writer;
  if (!o.out.empty()) {
    auto w = store::SampleFileWriter::create(o.out);
    if (!w) return fail(kExitEnv, w.error());
    writer.emplace(std::move(*w));
  }
  auto opened = open_collect_sampler(*h, roots, o.source, o.state_dir);
  if (!opened) return fail(kExitEnv, opened.error());
  auto& sampler = *opened->sampler;

  // Without --out, one accumulator per cgroup path: the same computation as
  // stats::window_stats over the samples (fed in time order), at 8 bytes per
  // sample instead of a whole Sample, so long runs over many cgroups fit.
  std::map<std::string, stats::WindowAccumulator> acc;
  const bool progress = ::isatty(STDERR_FILENO) == 1;
  uint64_t snapshots = 0, samples = 0;
  int64_t skipped = 0;  // slots missed because a snapshot took longer than the interval
  const int64_t last_slot = plan->duration / plan->interval;
  size_t cgroups_last = 0;
  auto t0 = Clock::now();
  auto next_progress = t0 + std::chrono::seconds(1);
  int rc = kExitOk;
  for (int64_t k = 0;;) {
    auto snap = sampler.take();
    if (!snap) {
      rc = fail(kExitEnv, "snapshot failed after " + std::to_string(snapshots) + " snapshots: " + snap.error().message());
      break;
    }
    ++snapshots;
    samples += snap->samples.size();
    cgroups_last = snap->samples.size();
    if (writer) {
      if (auto st = writer->write(*snap); !st) {
        rc = fail(kExitEnv, st.error(), "check free space and permissions where --out points");
        break;
      }
    } else {
      for (const auto& s : snap->samples) acc[s.cgroup].add(s);
    }
    auto now = Clock::now();
    if (progress && now >= next_progress) {
      std::fprintf(stderr, "\rcollect: %.0fs/%.0fs, %llu snapshots, %zu cgroups   ", seconds(now - t0),
                   seconds(plan->duration), static_cast<unsigned long long>(snapshots), cgroups_last);
      next_progress = now + std::chrono::seconds(1);
    }
    // Snapshot k is due at t0 + k*interval, up to and including t0 + duration;
    // when a snapshot overran its slot, the missed slots are skipped, not bunched.
    ++k;
    auto since = now - t0;
    if (since >= k * plan->interval) {
      int64_t next = since / plan->interval + 1;
      skipped += std::max<int64_t>(0, std::min(next, last_slot + 1) - k);
      k = next;
    }
    if (k * plan->interval > plan->duration || g_stop.load()) break;
    sleep_until(t0 + k * plan->interval);
    if (g_stop.load()) break;
  }
  double took = seconds(Clock::now() - t0);
  bool interrupted = g_stop.load();
  if (progress)
    std::fprintf(stderr, "\rcollect: %.1fs, %llu snapshots, %zu cgroups%s\n", took,
                 static_cast<unsigned long long>(snapshots), cgroups_last, interrupted ? " (interrupted)" : "   ");

  if (skipped > 0)
    spdlog::warn("{} of {} snapshots skipped: a snapshot of {} cgroups via {} took longer than --interval {}", skipped,
                 skipped + static_cast<int64_t>(snapshots), cgroups_last, sampler.source_name(), o.interval);
  if (writer) {
    // Close also after an error: what was written stays readable.
    auto st = writer->close();
    if (rc != kExitOk) return rc;
    if (!st) return fail(kExitEnv, st.error());
    if (o.json) {
      // ordered_json: the keys in the order the --json help and docs/cli.md list them.
      print_line(json_line(nlohmann::ordered_json{{"type", "summary"},
                                {"out", o.out},
                                {"format", writer->format() == store::SampleFormat::Csv ? "csv" : "jsonl"},
                                {"source", sampler.source_name()},
                                {"snapshots", snapshots},
                                {"samples", samples},
                                {"cgroups", cgroups_last},
                                {"skipped", skipped},
                                {"seconds", took},
                                {"interrupted", interrupted}}));
    } else {
      char line[256];
      std::snprintf(line, sizeof line, "collected %llu snapshots of %zu cgroups (%llu samples) in %.1fs via %s",
                    static_cast<unsigned long long>(snapshots), cgroups_last, static_cast<unsigned long long>(samples),
                    took, sampler.source_name());
      print_line(std::string(line) + " into " + o.out + (interrupted ? " (interrupted)" : ""));
    }
    return kExitOk;
  }
  if (rc != kExitOk) return rc;
  if (acc.empty()) return fail(kExitEnv, "no samples collected: the selected cgroups vanished or have no memory figures");
  stats::StatsByCgroup result;
  for (auto& [path, a] : acc) result.emplace(path, a.finish());
  if (o.json) print_line(stats::stats_json(result));
  else print_text(stats::stats_text(result));
  return kExitOk;
}

}  // namespace

void add_collect(CLI::App* sub, Action& action) {
  auto* o = on_run<CollectOpts>(sub, action, run_collect);
  sub->add_option("--duration", o->duration, "how long to sample, e.g. 30s, 10m (Ctrl-C ends earlier, nothing lost)")
      ->type_name("DUR")
      ->required();
  add_interval_flag(sub, o->interval, "one snapshot per interval", o->interval, kMinCollectInterval);
  add_cgroups_flag(sub, o->cgroups, "every memory cgroup");
  sub->add_option("--out", o->out,
                  "write every sample to FILE.jsonl or FILE.csv (read it with oomwatch stats --input FILE); "
                  "without it, print the statistics at the end")->type_name("FILE");
  add_source_flag(sub, o->source);
  sub->add_option("--state-dir", o->state_dir,
                  "where the BPF iterator's cut-down copy of the kernel's BTF is cached (DIR/btf; made once per "
                  "kernel, it saves about 13 ms of CPU at each start); \"\" for none")
      ->type_name("DIR")
      ->capture_default_str();
  sub->add_flag("--json", o->json,
                "with --out, the end-of-run summary as one JSON object {\"type\":\"summary\",\"out\",\"format\","
                "\"source\":\"bpf-iter|cgroupfs\",\"snapshots\",\"samples\",\"cgroups\" (in the last snapshot),"
                "\"skipped\" (slots missed: a snapshot outran --interval),\"seconds\",\"interrupted\"}; without --out "
                "the statistics as JSON (as stats --json)");
}

}  // namespace ow::cli
