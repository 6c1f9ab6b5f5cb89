#include "fleet/patch.hpp"

#include <map>
#include <set>

#include "fleet/owners.hpp"
#include "fleet/safeguards.hpp"
#include "recommend/gate.hpp"
#include "util/units.hpp"
#include "recommend/quantity.hpp"
#include "util/text.hpp"

namespace ow::fleet {
namespace {

using ojson = nlohmann::ordered_json;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Chosen {
  std::optional<uint64_t> bytes;
  std::string from;
  bool changes = false;
};

Chosen pick(std::optional<uint64_t> override_b, bool rec_changes, uint64_t rec, std::optional<uint64_t> current) {
  recommend::Candidates c;
  c.override_bytes = override_b;
  if (rec_changes) c.recommended_bytes = rec;
  if (current && *current != kUnlimited) c.template_bytes = current;
  auto ch = recommend::choose(c);
  Chosen out{ch.bytes, recommend::source_name(ch.source), false};
  out.changes = ch.bytes && (!current || *current != *ch.bytes);
  return out;
}

// Enforced: a recommended figure moves only as far as the safeguards allow.
void safeguard(Chosen& c, const FigureStep& s, std::optional<uint64_t> current) {
  if (c.from != recommend::source_name(recommend::Source::Recommended) || !c.changes) return;
  if (s.bytes) {
    c.bytes = s.bytes;
  } else {
    c.bytes = current && *current != kUnlimited ? current : std::nullopt;
  }
  c.changes = c.bytes && (!current || *current != *c.bytes);
  if (c.changes) c.from += ", safeguarded";
  else c.from = "held by the safeguards";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string stored_state_text(const PatchOptions& o) { return o.state_file.empty() ? "--state" : "--state " + o.state_file; }

}  // namespace

std::string kubectl_command(const std::string& resource, const std::string& name, const std::string& ns,
                            const std::string& type, const std::string& patch) {
  return "kubectl patch " + resource + " " + shell_quote(name) + " -n " + shell_quote(ns) + " --type " + type +
         " -p " + shell_quote(patch);
}

std::vector<ojson> workload_patches(const std::vector<FleetReport>& rs, const KnativeServices* ksvc,
                                    const PatchOptions& o) {
  std::map<std::pair<std::string, std::string>, std::vector<const FleetReport*>> by;
  for (const auto& f : rs) by[{f.key.ns, f.key.workload}].push_back(&f);
  std::vector<ojson> out;
  for (const auto& [id, fs] : by) {
    const auto& [ns, name] = id;
    const FleetReport& first = *fs.front();
    ojson doc = {{"namespace", ns}, {"name", name}, {"kind", first.kind}, {"owner_from", first.owner_from}};
    ojson containers = ojson::array(), ctr_patch = ojson::array();
    std::map<std::string, ojson> mem;  // container -> resources patch
    std::vector<std::string> why;
    const FleetReport* kn = nullptr;
    const char* res = patch_resource(first.kind);
    // The safeguards apply where a patch may be marked to apply.
    const bool enforced = o.enforcement && first.enforce && first.tuning_enabled && res;
    std::map<std::string, StoredFigures> written_figures;
    std::vector<std::string> held;  // figures the safeguards left as they are, with why
    for (const FleetReport* f : fs) {
      const auto& r = f->report;
      std::optional<uint64_t> ovr_req, ovr_lim;
      if (f->override_values) ovr_req = f->override_values->request_bytes, ovr_lim = f->override_values->limit_bytes;
      Chosen req = pick(ovr_req, r.decision.propose && r.decision.request_changes, r.rec.request_bytes, r.current.request_bytes);
      Chosen lim = pick(ovr_lim, r.decision.propose && r.decision.limit_changes, r.rec.limit_bytes, r.current.limit_bytes);
      ojson guards = nullptr;
      if (enforced) {
        const uint64_t p95 = r.input.long_window.ws_p95_bytes;
        std::vector<std::string> g;
        if (req.changes && req.from == "recommended") {
          auto st = step_request(r.current.request_bytes, *req.bytes, p95);
          g.push_back(st.reason);
          safeguard(req, st, r.current.request_bytes);
          if (!req.changes) held.push_back(f->key.container + " " + st.reason);
        }
        if (lim.changes && lim.from == "recommended") {
          auto st = step_limit(r.current.limit_bytes, *lim.bytes, p95, f->usage_now_bytes);
          g.push_back(st.reason);
          safeguard(lim, st, r.current.limit_bytes);
          if (!lim.changes) held.push_back(f->key.container + " " + st.reason);
        }
        if (!g.empty()) guards = join(g, "; ");
      }
      // A request above the limit is refused by the API server: an override
      // that sets only the request (above the current limit) takes the limit
      // up with it.
      if (req.bytes && lim.bytes && *req.bytes > *lim.bytes) {
        lim.bytes = req.bytes;
        lim.from += ", raised to the request";
        lim.changes = true;
      }
      containers.push_back({{"name", f->key.container},
                            {"request", req.bytes ? ojson(recommend::quantity(*req.bytes)) : ojson(nullptr)},
                            {"request_from", req.from},
                            {"limit", lim.bytes ? ojson(recommend::quantity(*lim.bytes)) : ojson(nullptr)},
                            {"limit_from", lim.from},
                            {"decision", r.decision.reason},
                            {"safeguards", guards}});
      if (req.changes || lim.changes) {
        ojson figures = ojson::object();
        if (req.changes) figures["requests"] = {{"memory", recommend::quantity(*req.bytes)}};
        if (lim.changes) figures["limits"] = {{"memory", recommend::quantity(*lim.bytes)}};
        mem[f->key.container] = figures;
        why.push_back(f->key.container + ": " + r.rec.rationale);
        written_figures[f->key.container] = {req.changes ? req.bytes : std::nullopt, lim.changes ? lim.bytes : std::nullopt,
                                             o.now_ns / 1'000'000};
      }
      if (f->knative) kn = f;
    }
    doc["containers"] = containers;
    ojson patch = nullptr;
    std::string type, reason;
    bool enabled = first.tuning_enabled;
    if (!enabled) {
      reason = first.tuning_reason.empty() ? "memory tuning is disabled for " + ns + "/" + name : first.tuning_reason;
    } else if (!res && first.kind == "Pod") {
      reason = "a bare pod's resources cannot be patched (no controller owns " + name + ")";
    } else if (!res) {
      reason = "kind " + first.kind + " is not patched by oomwatch (only Deployment, StatefulSet, DaemonSet and "
               "Knative Service): set the containers' figures above on " + first.kind + " " + ns + "/" + name +
               " yourself";
    } else if (first.kind == "Service") {
      type = "merge";
      ojson tpl = ojson::object();
      const KnativeService* svc = nullptr;
      if (ksvc)
        if (auto s = ksvc->find(ns + "/" + name); s != ksvc->end()) svc = &s->second;
      bool kn_change = kn && kn->knative->propose;
      if (kn_change) {
        if (kn->knative->target) tpl["metadata"]["annotations"][recommend::kTargetAnnotation] = std::to_string(*kn->knative->target);
        if (kn->knative->container_concurrency) tpl["spec"]["containerConcurrency"] = *kn->knative->container_concurrency;
        why.push_back("knative: " + kn->knative->rationale);
      }
      // Explicit user settings are written as they are (they win over advice).
      if (first.override_knative) {
        for (const auto& [k, v] : first.override_knative->annotations) tpl["metadata"]["annotations"][k] = v;
        if (first.override_knative->container_concurrency)
          tpl["spec"]["containerConcurrency"] = *first.override_knative->container_concurrency;
      }
      if (!mem.empty()) {
        if (!svc) {
          why.push_back("memory not patched: pass --knative-services (kubectl get ksvc -o json); a merge patch "
                        "replaces the Service's whole containers list");
          reason = why.back();
        } else {
          ojson list = svc->containers;
          std::set<std::string> written;
          for (auto& c : list) {
            // Knative names a lone unnamed container "user-container" in the pod.
            std::string cn = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>()
                             : list.size() == 1                           ? std::string("user-container")
                                                                          : std::string();
            if (auto m = mem.find(cn); m != mem.end()) {
              for (auto it = m->second.begin(); it != m->second.end(); ++it) c["resources"][it.key()]["memory"] = it.value()["memory"];
              written.insert(cn);
            }
          }
          for (const auto& [cn, r] : mem)
            if (!written.count(cn))
              why.push_back(cn + ": not a container of the Service's template (queue-proxy's resources are Knative's "
                                 "config-deployment), not patched");
          if (!written.empty()) tpl["spec"]["containers"] = list;
        }
      }
      if (!tpl.empty()) patch = {{"spec", {{"template", tpl}}}};
    } else {
      type = "strategic";
      for (const auto& [cn, r] : mem) ctr_patch.push_back({{"name", cn}, {"resources", r}});
      if (!ctr_patch.empty()) patch = {{"spec", {{"template", {{"spec", {{"containers", ctr_patch}}}}}}}};
    }
    if (patch.is_null() && reason.empty()) {
      reason = "nothing to change: every figure is within hysteresis or overridden to its current value";
      for (const FleetReport* f : fs)
        if (f->report.decision.reason.rfind("cooldown:", 0) == 0) {
          reason = "nothing to change now: " + f->key.container + "'s " + f->report.decision.reason;
          break;
        }
      if (!held.empty()) reason = "nothing to change within the safeguards: " + join(held, "; ");
    }
    doc["patch_type"] = patch.is_null() ? ojson(nullptr) : ojson(type);
    doc["patch"] = patch;
    doc["command"] = patch.is_null() ? ojson(nullptr) : ojson(kubectl_command(res, name, ns, type, patch.dump()));
    std::optional<std::string> cooling = enforced ? workload_cooldown(first.last_applied_ns, o.now_ns) : std::nullopt;
    bool apply = !patch.is_null() && enforced && o.stateful && !cooling;
    doc["apply"] = apply;
    if (patch.is_null())
      doc["apply_reason"] = reason;
    else if (apply)
      doc["apply_reason"] = "enforcement on (" + o.enforcement_from + ") and memory_tuning.enforce for " + ns + "/" + name +
                            "; within the safeguards (at most 30 % per change, not below the ws p95 or usage + 32Mi, "
                            "30m cooldown)";
    else if (!o.enforcement)
      doc["apply_reason"] = "observe-only: enforcement is off (--enforce or OPRC_CRM_FEATURES_NFR_ENFORCEMENT=true)";
    else if (!first.enforce)
      doc["apply_reason"] = "observe-only: memory_tuning.enforce is not set for " + ns + "/" + name + " in the overrides file";
    else if (!o.stateful)
      doc["apply_reason"] = "held back: no --state file, so the cooldown since the last applied change cannot be kept";
    else
      doc["apply_reason"] = "held back by the " + *cooling + " (the last applied change, from " + stored_state_text(o) + ")";
    if (apply && o.record) {
      StoredWorkload& sw = o.record->workloads[ns + "/" + name];
      sw.last_applied_ms = o.now_ns / 1'000'000;
      for (const auto& [cn, figs] : written_figures) sw.containers[cn].applied = figs;
      if (patch.contains("spec") && patch["spec"].contains("template")) {
        const ojson& tpl = patch["spec"]["template"];
        StoredKnative k{std::nullopt, std::nullopt, o.now_ns / 1'000'000};
        if (tpl.contains("metadata") && tpl["metadata"]["annotations"].contains(recommend::kTargetAnnotation))
          k.target = std::stoll(tpl["metadata"]["annotations"][recommend::kTargetAnnotation].get<std::string>());
        if (tpl.contains("spec") && tpl["spec"].contains("containerConcurrency"))
          k.container_concurrency = tpl["spec"]["containerConcurrency"].get<int64_t>();
        if (k.target || k.container_concurrency) sw.knative = k;
      }
    }
    doc["rationale"] = why;
    out.push_back(std::move(doc));
  }
  return out;
}

std::string patches_text(const std::vector<ojson>& ps) {
  std::string s;
  for (const auto& p : ps) s += json_line(p) + "\n";
  return s;
}

}  // namespace ow::fleet
