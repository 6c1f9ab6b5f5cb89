#include "cli/recommend_fleet.hpp"

#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/common.hpp"
#include "fleet/fleet_output.hpp"
#include "fleet/fleet_report.hpp"
#include "fleet/fleet_state.hpp"
#include "fleet/patch.hpp"
#include "fleet/prom_source.hpp"
#include "stats/time.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::cli {
namespace {

constexpr const char* kEnforceEnv = "OPRC_CRM_FEATURES_NFR_ENFORCEMENT";

// The flags naming Prometheus's metrics, matchers and labels, in --help order;
// all but the matchers must not be empty.
struct NameFlag {
  const char* flag;
  std::string FleetOpts::*field;
  const char* help;
  bool matcher;
};
constexpr NameFlag kNameFlags[] = {
    {"--metric-working-set", &FleetOpts::m_ws, "working-set metric", false},
    {"--metric-rss", &FleetOpts::m_rss, "RSS metric", false},
    {"--metric-requests", &FleetOpts::m_requests, "requests metric", false},
    {"--metric-limits", &FleetOpts::m_limits, "limits metric", false},
    {"--resource-match", &FleetOpts::resource_match,
     "matcher picking memory in the requests/limits metrics", true},
    {"--metric-oom", &FleetOpts::m_oom,
     "OOM metric: a gauge, as kube_pod_container_status_last_terminated_reason, or a counter ending in "
     "_total (container_oom_events_total)",
     false},
    {"--oom-match", &FleetOpts::oom_match, "matcher for a gauge OOM metric", true},
    {"--metric-concurrency", &FleetOpts::m_concurrency,
     "Knative per-pod concurrency", false},
    {"--metric-queue-depth", &FleetOpts::m_queue, "Knative per-pod queue depth", false},
    {"--metric-pod-owner", &FleetOpts::m_pod_owner,
     "kube-state-metrics' pod owner metric: names each pod's workload and kind", false},
    {"--metric-replicaset-owner", &FleetOpts::m_rs_owner,
     "kube-state-metrics' ReplicaSet owner metric: the Deployment (or Rollout, ...) behind a ReplicaSet", false},
    {"--label-namespace", &FleetOpts::l_ns, "namespace label", false},
    {"--label-pod", &FleetOpts::l_pod, "pod label", false},
    {"--label-container", &FleetOpts::l_container, "container label", false},
};

}  // namespace

void add_fleet_options(CLI::App* sub, FleetOpts& o) {
  const size_t before = sub->get_options().size();  // in the order they were added
  sub->add_option("--prometheus", o.prometheus, "fleet mode: read the working set from Prometheus at this http:// URL "
                                                "instead of the node's history database")->type_name("URL");
  sub->add_option("--selector", o.selector, "PromQL label matchers added to every query, e.g. 'namespace=\"shop\"'")
      ->type_name("M");
  sub->add_option("--owner", o.owner, "only series whose owner label is this class (oaas.io/owner=<class>)")
      ->type_name("CLASS");
  sub->add_option("--owner-label", o.owner_label, "the owner label as Prometheus names it; names the workload when "
                                                  "present")->type_name("LABEL")
      ->capture_default_str();
  sub->add_option("--step", o.step, "query_range step")
      ->type_name("DUR")->default_str("30s, coarser when the window needs it");
  sub->add_option("--end", o.end, "the windows end here: RFC 3339, unix seconds, or relative (-1h)")->type_name("T")
      ->default_str("now");
  sub->add_option("--timeout", o.timeout, "per HTTP attempt")->type_name("DUR")->capture_default_str();
  sub->add_option("--retries", o.retries, "HTTP retries after a failed attempt, with doubling backoff")->type_name("N")
      ->capture_default_str();
  sub->add_option("--max-points", o.max_points, "points per series and query (11000 is Prometheus's limit); longer "
                                                "ranges are split")->type_name("N")
      ->capture_default_str();
  sub->add_option("--knative-services", o.knative_services, "kubectl get ksvc -o json output: Knative concurrency "
                                                            "settings and containers")->type_name("FILE");
  sub->add_option("--overrides", o.overrides, "per-workload memory_tuning / knative_tuning controls (JSON)")
      ->type_name("FILE");
  sub->add_option("--profile", o.profile, "the deployment profile (dev, edge or full) of workloads whose overrides name none: dev turns "
                                          "memory tuning off unless enabled, edge and full leave it on")
      ->type_name("P")->default_str("full");
  sub->add_flag("--enforce", o.enforce, "with --format patch: mark the patches of workloads whose overrides say "
                                        "enforce as to be applied, within the safeguards (also " +
                                            std::string(kEnforceEnv) + "=true)");
  sub->add_option("--state", o.state, "JSON file kept between runs: the last recommendation and the last applied "
                                      "change per workload (cooldown, hysteresis); created when missing")
      ->type_name("FILE");
  for (const auto& n : kNameFlags)
    sub->add_option(n.flag, o.*n.field, n.help)->type_name(n.matcher ? "M" : "NAME")->capture_default_str();
  auto all = sub->get_options();
  for (size_t i = before; i < all.size(); ++i)
    if (all[i]->get_name() != "--prometheus" && all[i]->get_name() != "--end") o.fleet_only.push_back(all[i]);
}

std::string fleet_only_given(const FleetOpts& o) {
  for (const CLI::Option* opt : o.fleet_only)
    if (opt->count() > 0) return opt->get_name();
  return "";
}

int run_recommend_fleet(const FleetOpts& o, int64_t window_ns, int64_t short_window_ns, const recommend::Rules& rules,
                        const std::string& format) {
  int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  fleet::FleetQuery q;
  q.selector = o.selector;
  q.owner = o.owner;
  q.window_ms = window_ns / 1'000'000;
  q.short_window_ms = short_window_ns / 1'000'000;
  q.end_ms = now_ns / 1'000'000;
  if (!o.end.empty()) {
    auto t = stats::parse_time_arg(o.end, now_ns);
    if (!t) return fail(kExitUsage, "--end: " + t.error().message());
    q.end_ms = *t / 1'000'000;
  }
  if (o.max_points < 2) return fail(kExitUsage, "--max-points must be at least 2, got " + std::to_string(o.max_points));
  q.max_points = o.max_points;
  if (o.step.empty()) {
    q.step_ms = fleet::default_step_ms(q.window_ms, q.max_points);
  } else {
    auto d = parse_duration(o.step);
    if (!d) return fail(kExitUsage, "--step: " + d.error().message());
    q.step_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
    if (q.step_ms < 1000) return fail(kExitUsage, "--step must be at least 1s, got '" + o.step + "'");
    if (q.step_ms > q.window_ms) return fail(kExitUsage, "--step " + o.step + " is longer than the window");
  }
  if (o.retries < 0 || o.retries > 10) return fail(kExitUsage, "--retries must be 0..10, got " + std::to_string(o.retries));
  fleet::HttpOptions http;
  auto to = parse_duration(o.timeout);
  if (!to) return fail(kExitUsage, "--timeout: " + to.error().message());
  http.timeout_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(*to).count());
  if (http.timeout_ms <= 0) return fail(kExitUsage, "--timeout must be positive, got '" + o.timeout + "'");
  http.attempts = 1 + o.retries;
  q.metrics = {o.m_ws,      o.m_rss,         o.m_requests,  o.m_limits,    o.resource_match, o.m_oom,
               o.oom_match, o.m_concurrency, o.m_queue,     o.m_pod_owner, o.m_rs_owner};
  q.labels = {o.l_ns, o.l_pod, o.l_container, o.owner_label};
  q.knative = true;
  q.cooldown_ms = rules.cooldown_ns / 1'000'000;
  for (const auto& n : kNameFlags)
    if (!n.matcher && (o.*n.field).empty()) return fail(kExitUsage, std::string(n.flag) + " must not be empty");
  if (!o.owner.empty() && o.owner_label.empty()) return fail(kExitUsage, "--owner needs an --owner-label");

  if (auto u = fleet::check_url(o.prometheus); !u)
    return fail(kExitUsage, (o.prometheus_from == "--prometheus" ? std::string("--prometheus") : o.prometheus_from + "=" + o.prometheus) +
                                ": " + u.error().message());
  fleet::Profile profile = fleet::Profile::Full;
  if (!o.profile.empty()) {
    auto p = fleet::parse_profile(o.profile);
    if (!p) return fail(kExitUsage, "--profile: " + p.error().message());
    profile = *p;
  }
  fleet::PatchOptions po;
  if (o.enforce) po.enforcement = true, po.enforcement_from = "--enforce";
  if (const char* e = std::getenv(kEnforceEnv); e && *e) {
    std::string v = e;
    if (v != "true" && v != "false")
      return fail(kExitUsage, std::string(kEnforceEnv) + "='" + v + "': expected true or false");
    if (v == "true" && !po.enforcement) po.enforcement = true, po.enforcement_from = kEnforceEnv;
  }
  if (po.enforcement && format != "patch") return fail(kExitUsage, "--enforce applies to --format patch only");

  std::optional<fleet::KnativeServices> ksvc;
  if (!o.knative_services.empty()) {
    auto t = read_input_file(o.knative_services, kMaxListBytes, "--knative-services");
    if (!t) return fail(t.error(), "pass the output of kubectl get ksvc -o json");
    auto k = fleet::parse_knative_services(*t);
    if (!k) return fail(kExitUsage, "--knative-services " + o.knative_services + ": " + k.error().message());
    ksvc = std::move(*k);
  }
  std::optional<fleet::Overrides> ov;
  if (!o.overrides.empty()) {
    auto t = read_input_file(o.overrides, kMaxConfigBytes, "--overrides");
    if (!t) return fail(t.error());
    auto p = fleet::parse_overrides(*t);
    if (!p) return fail(kExitUsage, "--overrides " + o.overrides + ": " + p.error().message());
    ov = std::move(*p);
  }

  fleet::FleetState state;
  if (!o.state.empty()) {
    struct stat st;
    if (::stat(o.state.c_str(), &st) == 0) {  // a missing file is no history
      auto t = read_input_file(o.state, kMaxListBytes, "--state");
      if (!t) return fail(t.error());
      auto p = fleet::parse_state(*t);
      if (!p) return fail(kExitUsage, "--state " + o.state + ": not an oomwatch state file: " + p.error().message());
      state = std::move(*p);
    } else if (errno != ENOENT) {
      return fail(kExitEnv, sys_error("--state: stat", o.state));
    }
  }

  fleet::PromClient client(o.prometheus, http);
  auto data = fleet::fetch_fleet(client, q);
  if (!data)
    return fail(data.error().usage ? kExitUsage : kExitEnv, data.error().message(),
                data.error().usage ? "check --prometheus, --selector, --owner and the metric names; widen --window or move --end"
                                   : "");
  fleet::FleetContext c;
  c.rules = rules;
  c.services = ksvc ? &*ksvc : nullptr;
  c.overrides = ov ? &*ov : nullptr;
  c.state = o.state.empty() ? nullptr : &state;
  c.now_ns = q.end_ms * 1'000'000;
  c.profile = profile;
  if (!o.profile.empty()) c.profile_from = "--profile";
  auto reports = fleet::build_fleet_reports(*data, q, c);
  fleet::FleetState next = state;
  po.stateful = !o.state.empty();
  po.state_file = o.state;
  po.now_ns = c.now_ns;
  po.record = &next;
  std::vector<nlohmann::ordered_json> patches;
  if (format == "patch") patches = fleet::workload_patches(reports, ksvc ? &*ksvc : nullptr, po);
  if (!o.state.empty()) {
    fleet::record_recommendations(next, reports, q.end_ms);
    // Written before the output: a patch marked to apply is never printed
    // without its cooldown on record.
    if (auto w = write_file_atomic(o.state, fleet::state_text(next), 0600); !w)
      return fail(kExitEnv, w.error(), "--state must name a file in a writable directory");
  }
  fleet::SourceInfo src{o.prometheus, q.end_ms, q.window_ms, std::min(q.short_window_ms, q.window_ms), q.step_ms,
                        data->range_queries, o.prometheus_from};
  if (format == "json")
    print_text(fleet::fleet_json(reports, src) + "\n");
  else if (format == "yaml")
    print_text(fleet::fleet_yaml(reports, src));
  else if (format == "patch")
    print_text(fleet::patches_text(patches));
  else
    print_text(fleet::fleet_table(reports, src));
  // Patch lines are one JSON object each: the URL's origin goes to stderr there.
  if (format == "patch" && o.prometheus_from != "--prometheus")
    std::fprintf(stderr, "oomwatch: Prometheus %s from %s\n", o.prometheus.c_str(), o.prometheus_from.c_str());
  return kExitOk;
}

}  // namespace ow::cli
