// `oomwatch recommend --prometheus URL ...`: the fleet path of recommend.
// Its flags are registered on the recommend subcommand; the rules, clamps,
// windows and formats are recommend's own (docs/fleet.md).
#pragma once
#include <string>
#include <vector>

#include "recommend/rules.hpp"

namespace CLI {
class App;
class Option;
}

namespace ow::cli {

// The seed's Prometheus URL: the default --prometheus of recommend when
// neither --db nor --cgroup asks for the node path.
inline constexpr const char* kPromUrlEnv = "OPRC_CRM_PROM_URL";

struct FleetOpts {
  std::string prometheus, selector, owner, owner_label = "oaas_io_owner", step, end, timeout = "10s";
  std::string knative_services, overrides, state, profile;
  std::string prometheus_from = "--prometheus";  // or kPromUrlEnv when the URL came from it
  std::string m_ws = "container_memory_working_set_bytes", m_rss = "container_memory_rss",
              m_requests = "kube_pod_container_resource_requests", m_limits = "kube_pod_container_resource_limits",
              resource_match = "resource=\"memory\"", m_oom = "kube_pod_container_status_last_terminated_reason",
              oom_match = "reason=\"OOMKilled\"", m_concurrency = "revision_app_request_concurrency",
              m_queue = "revision_queue_depth", m_pod_owner = "kube_pod_owner",
              m_rs_owner = "kube_replicaset_owner";
  std::string l_ns = "namespace", l_pod = "pod", l_container = "container";
  int retries = 2;
  long max_points = 11000;
  bool enforce = false;
  std::vector<const CLI::Option*> fleet_only;  // every flag but --prometheus and --end
};

// Registers the fleet flags on recommend's subcommand.
void add_fleet_options(CLI::App* sub, FleetOpts& o);
// The first fleet-only flag on the command line ("" for none): the node
// path refuses it rather than ignoring it.
std::string fleet_only_given(const FleetOpts& o);

// Windows as parsed by recommend (ns); rules with recommend's clamps.
int run_recommend_fleet(const FleetOpts& o, int64_t window_ns, int64_t short_window_ns, const recommend::Rules& rules,
                        const std::string& format);

}  // namespace ow::cli
