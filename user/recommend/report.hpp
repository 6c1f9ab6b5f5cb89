// The recommend presentation, per container (or plain cgroup): current
// request/limit and where they came from, observed working-set figures of
// both windows, the recommendation, its confidence, the hysteresis/cooldown
// decision, and the rationale. JSON and YAML for machines (the same keys),
// a table for people. Pure: text out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recommend/gate.hpp"
#include "recommend/rules.hpp"

namespace ow::recommend {

struct KubeName {
  std::string ns, pod, container, pod_uid, container_id, qos;
};

// The last recommendation stored in the history database (made by the agent).
struct LastRecommendation {
  int64_t ts_ns = 0;
  uint64_t request_bytes = 0, limit_bytes = 0;
  std::string confidence, rationale;
};

struct Report {
  std::string cgroup;                // path in the memory hierarchy
  std::string name;                  // "ns/pod/container", or the cgroup path
  std::optional<KubeName> kube;      // set when the path is a Kubernetes pod or container
  Current current;
  std::string request_from, limit_from;  // "memory.min", "pods file", "cgroup", "history"; empty: unknown
  std::string oom_from;  // where the kills' figures came from: "kernel event", "oom_kill counter"; empty: none
  Input input;
  Recommendation rec;
  Decision decision;
  std::optional<LastRecommendation> last;
  // For Go programs: the GOMEMLIMIT oomwatch would publish if the limit were
  // the recommended one (gomemlimit/calc.hpp, from the cgroup's memory.stat
  // now); unset when the cgroup is gone or no positive hint fits.
  std::optional<uint64_t> gomemlimit_bytes;
  // What hysteresis compared against: "last recommendation" when there is
  // one (a new recommendation is one that moved), else "current".
  std::string compared_to = "current";
};

// One report as the JSON object reports_json puts in its array.
nlohmann::ordered_json report_object(const Report& r);
std::string reports_json(const std::vector<Report>& rs);  // one line: {"containers":[...]}
std::string reports_yaml(const std::vector<Report>& rs);  // the same document as YAML
std::string reports_table(const std::vector<Report>& rs);

// JSON (strings, numbers, booleans, null, objects, arrays of objects) as
// YAML; strings double-quoted, which YAML reads as the JSON string.
std::string to_yaml(const nlohmann::ordered_json& doc);

}  // namespace ow::recommend
