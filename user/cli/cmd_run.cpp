// oomwatch run: the agent (user/agent/daemon.hpp). Flags override the config
// file, which overrides the defaults; observe-only unless --enforce.
// oomwatch restore: puts back what a run that died left changed.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>

#include "agent/daemon.hpp"
#include "exporter/hooks.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/help_format.hpp"
#include "cli/options.hpp"
#include "stress/args.hpp"
#include "util/log.hpp"
#include "util/listen.hpp"
#include "util/sched.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::cli {
namespace {

struct RunOpts {
  std::string config, reservation, audit_log, interval, cpu_budget, db, donor_min_history, listen, web_config, loop_priority, state_dir = kDefaultStateDir, pin_dir = bpf::kDefaultPinDir;
  std::vector<std::string> manage;
  bool enforce = false, no_rescue = false, hints = false;
  CLI::Option *o_enforce = nullptr, *o_hints = nullptr, *o_manage = nullptr, *o_reservation = nullptr, *o_no_rescue = nullptr,
              *o_audit = nullptr, *o_interval = nullptr, *o_cpu_budget = nullptr, *o_db = nullptr, *o_donor_min_history = nullptr,
              *o_listen = nullptr, *o_web_config = nullptr, *o_loop_priority = nullptr;
};

// "none" turns off the database and the pins, not the audit log: the agent
// records every decision before it acts. As a path it would be a file named
// "none" in the working directory.
constexpr const char* kAuditNone =
    "the agent audits every decision before it acts, so its audit log cannot be 'none': give a file "
    "(default /var/log/oomwatch/audit.jsonl)";

int do_run(const RunOpts& o) {
  if (o.o_audit->count() && o.audit_log == "none") return fail(kExitUsage, std::string("--audit-log: ") + kAuditNone);
  if (int rc = require_root("running the agent")) return rc;
  agent::DaemonOptions d;
  if (!o.config.empty()) {
    auto c = config::load_config(o.config);
    if (!c) return fail(kExitUsage, c.error());
    d.cfg = *c;
  }
  auto& cfg = d.cfg;
  if (o.o_enforce->count()) cfg.enforce = true;
  if (o.o_hints->count()) cfg.hints = true;
  // The config's log level, unless --log-level was given.
  if (!o.config.empty() && !log_level_from_flag()) spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  if (o.o_manage->count()) cfg.manage = o.manage;
  if (o.o_reservation->count()) {
    if (o.reservation == "physical")
      cfg.reservation = policy::Reservation::physical;
    else if (o.reservation == "strict")
      cfg.reservation = policy::Reservation::strict;
    else
      return fail(kExitUsage, "--reservation: '" + o.reservation + "' is neither physical nor strict");
  }
  if (o.o_no_rescue->count()) cfg.rescue = false;
  if (o.o_audit->count()) {
    if (o.audit_log.empty()) return fail(kExitUsage, "--audit-log: empty path");
    cfg.audit_log = o.audit_log;
  }
  if (cfg.audit_log == "none") return fail(kExitUsage, std::string("audit_log: ") + kAuditNone);
  if (o.o_interval->count()) {
    auto i = stress::interval_flag("--interval", o.interval, std::chrono::nanoseconds(config::kMinIntervalNs));
    if (!i) return fail(kExitUsage, i.error());
    cfg.interval_ns = i->count();
  }
  if (o.o_cpu_budget->count()) {
    auto b = config::parse_cpu_budget(o.cpu_budget);
    if (!b) return fail(kExitUsage, "--cpu-budget: " + b.error().message());
    cfg.cpu_budget_pct = *b;
  }
  if (o.o_db->count()) cfg.db = o.db;
  if (o.o_listen->count()) {
    if (!o.listen.empty() && o.listen != "none")
      if (auto a = parse_listen(o.listen); !a) return fail(kExitUsage, "--listen: " + a.error().message());
    cfg.listen = o.listen == "none" ? "" : o.listen;
  }
  if (o.o_web_config->count()) cfg.web_config_file = o.web_config == "none" ? "" : o.web_config;
  // The web config is read, and its certificate and key loaded, now: a bad
  // file stops the agent before it changes anything on the node.
  if (!cfg.web_config_file.empty()) {
    if (cfg.listen.empty())
      return fail(kExitUsage, "--web-config-file " + cfg.web_config_file +
                                  ": there is no /metrics listener to protect (give --listen or listen in the config)");
    exporter::MetricsOptions probe;
    if (auto st = exporter::apply_web_config(cfg.web_config_file, probe); !st)
      return fail(st.error());
  }
  if (o.o_loop_priority->count()) {
    auto p = parse_loop_priority(o.loop_priority);
    if (!p) return fail(kExitUsage, "--loop-priority: '" + o.loop_priority + "' is not one of fifo, nice, normal");
    cfg.loop_priority = *p;
  }
  if (o.o_donor_min_history->count()) {
    auto i = parse_duration(o.donor_min_history);
    if (!i) return fail(kExitUsage, "--donor-min-history: " + i.error().message());
    cfg.donor_min_history_ns = i->count();
  }
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error());
  if (int rc = resolve_flags(*h, "--manage", cfg.manage, cfg.manage)) return rc;
  // [[cgroup]] paths are matched against the same form --manage takes.
  for (auto& e : cfg.cgroups) {
    auto r = h->normalize(e.path);
    if (!r) return fail(kExitUsage, o.config + ":" + std::to_string(e.line) + ": cgroup path: " + r.error().message());
    e.path = *r;
  }
  d.hints = cfg.hints;
  d.state_dir = o.state_dir;
  d.pin_dir = o.pin_dir == "none" ? "" : o.pin_dir;
  bool fix_named = false;
  auto s = agent::run_daemon(d, &fix_named);
  // A refused file or directory, a held lock or port, a pin dir off bpffs say
  // what to do themselves; anything else may be the kernel's.
  if (!s)
    return fail(kExitEnv, s.error(),
                fix_named || s.error().message().rfind("refusing", 0) == 0
                    ? ""
                    : "run 'oomwatch check' to see what this node supports");
  return kExitOk;
}

struct RestoreOpts {
  failsafe::StatePaths paths;
  std::string wait = "0s";
  bool json = false;
};

int do_restore(const RestoreOpts& o) {
  auto w = parse_duration(o.wait);
  if (!w) return fail(kExitUsage, "--wait: " + w.error().message());
  if (int rc = require_root("restoring cgroup settings")) return rc;
  auto p = o.paths;
  if (p.pin_dir == "none") p.pin_dir.clear();
  if (p.audit_log == "none") p.audit_log.clear();
  auto r = agent::restore_state(p, std::chrono::duration_cast<std::chrono::milliseconds>(*w).count());
  if (!r) return fail(kExitEnv, r.error());
  if (o.json) {
    nlohmann::json j{{"settings", r->settings}, {"limits", r->limits}, {"hints", r->hints},
                     {"pins", r->pins},         {"problems", r->problems}, {"state_dir", p.state_dir}};
    print_line(json_line(j));
  } else {
    print_line(fmt::format("restored {} setting(s), {} limit(s), {} GOMEMLIMIT hint(s), {} pin(s) from {}",
                           r->settings, r->limits, r->hints, r->pins, p.state_dir));
    for (const auto& pr : r->problems) spdlog::error("{}", pr);
  }
  return r->problems.empty() ? kExitOk : kExitEnv;
}

}  // namespace

void add_run(CLI::App* sub, Action& action) {
  auto* o = on_run<RunOpts>(sub, action, do_run);
  sub->add_option("--config", o->config, "TOML config file; flags override it")->type_name("FILE");
  o->o_enforce = sub->add_flag("--enforce", o->enforce,
                               "write limits, pause/guard managed cgroups; without it the agent observes and audits "
                               "dry runs, and nothing on the node changes");
  o->o_hints = sub->add_flag("--hints", o->hints,
                             "publish GOMEMLIMIT hints (xattr user.oomwatch.gomemlimit, STATE_DIR/gomemlimit/ID, "
                             "pinned map gomemlimit); withdrawn when the agent stops");
  o->o_manage = sub->add_option("--manage", o->manage,
                                "subtree whose child cgroups may be resized (repeatable); nothing else is written")
      ->type_name("P");
  o->o_reservation = one_of(sub->add_option("--reservation", o->reservation,
                                            "physical: parent headroom = limit - usage - reserve; strict: also "
                                            "no more than limit - sum of children's limits")
                                ->default_str(policy::to_string(config::Config{}.reservation)),
                            policy::reservation_names());
  o->o_no_rescue = sub->add_flag("--no-rescue", o->no_rescue, "react to OOM kills only: no pause or guard before the kill");
  o->o_audit =
      sub->add_option("--audit-log", o->audit_log, "audit JSON lines")
          ->type_name("FILE")->default_str(config::Config{}.audit_log);
  o->o_interval = add_interval_flag(sub, o->interval, "snapshot interval",
                                    format_duration(std::chrono::nanoseconds(config::Config{}.interval_ns)),
                                    std::chrono::nanoseconds(config::kMinIntervalNs));
  o->o_cpu_budget = sub->add_option("--cpu-budget", o->cpu_budget,
                                    "percent of one core the agent keeps to: the snapshot interval stretches "
                                    "(up to 60s) when over, shortens back to --interval when there is room; "
                                    "0: off, a fixed interval. OOM events, pauses and rescues are never slowed")
                        ->type_name("PCT")
                        ->default_str("1");
  o->o_db = sub->add_option("--db", o->db, "history database ('none' disables)")
      ->type_name("FILE")->default_str(config::Config{}.db);
  o->o_donor_min_history =
      sub->add_option("--donor-min-history", o->donor_min_history,
                      "a sibling donates only with this much usage history (the database keeps it across restarts)")
          ->type_name("DUR")
          ->default_str(format_duration(std::chrono::nanoseconds(config::Config{}.donor_min_history_ns)));
  o->o_listen = sub->add_option("--listen", o->listen,
                                "serve Prometheus metrics on http://ADDR:PORT/metrics (numeric, e.g. 127.0.0.1:9721, "
                                "[::1]:9721; 'none' turns off the config's listen)")->type_name("ADDR:PORT")
                    ->default_str("off");
  o->o_web_config = sub->add_option("--web-config-file", o->web_config,
      "TLS and basic auth for /metrics: a YAML file in the Prometheus exporter toolkit's format "
      "(tls_server_config, basic_auth_users; docs/cli.md); 'none' turns off the config's web_config_file")
      ->type_name("FILE");
  o->o_loop_priority = one_of(sub->add_option("--loop-priority", o->loop_priority,
                                               "the event loop thread's priority: fifo (SCHED_FIFO 1, so a rescue is "
                                               "not queued behind busy CPUs), nice (-10) or normal; falls back with "
                                               "a warning when refused")
                                  ->default_str(to_string(config::Config{}.loop_priority)),
                              loop_priority_names());
  sub->add_option("--state-dir", o->state_dir, "journal of settings to restore")
      ->type_name("DIR")->capture_default_str();
  sub->add_option("--pin-dir", o->pin_dir, "where maps are pinned for bpftool ('none': nowhere)")->type_name("DIR")
      ->capture_default_str();
}

void add_restore(CLI::App* sub, Action& action) {
  auto* o = on_run<RestoreOpts>(sub, action, do_restore);
  sub->add_option("--state-dir", o->paths.state_dir, "the run's --state-dir")->type_name("DIR")->capture_default_str();
  sub->add_option("--pin-dir", o->paths.pin_dir, "the run's --pin-dir ('none': nothing was pinned)")->type_name("DIR")
      ->capture_default_str();
  o->paths.audit_log = config::Config{}.audit_log;
  sub->add_option("--audit-log", o->paths.audit_log, "audit log for the limits put back ('none': no audit)")
      ->type_name("FILE")
      ->capture_default_str();
  sub->add_option("--wait", o->wait, "wait this long for a running agent or its guardian to finish")->type_name("DUR")
      ->default_str("0s");
  sub->add_flag("--json", o->json, "one JSON object: what was restored and what could not be");
}

}  // namespace ow::cli
