#include "recommend/report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "recommend/quantity.hpp"
#include "stats/time.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::recommend {
namespace {

using ojson = nlohmann::ordered_json;

ojson size_or_null(std::optional<uint64_t> b) {
  if (!b) return nullptr;
  if (*b == kUnlimited) return "max";
  return quantity(*b);
}
ojson bytes_or_null(std::optional<uint64_t> b) {
  if (!b || *b == kUnlimited) return nullptr;
  return *b;
}

ojson window_json(const WindowFigures& w) {
  return {{"ws_avg", mib_text(w.ws_avg_bytes)},      {"ws_p95", mib_text(w.ws_p95_bytes)},
          {"ws_max", mib_text(w.ws_max_bytes)},      {"ws_avg_bytes", w.ws_avg_bytes},
          {"ws_p95_bytes", w.ws_p95_bytes},          {"ws_max_bytes", w.ws_max_bytes},
          {"window", duration_text(w.window_ns)},    {"covered", duration_text(w.covered_ns)},
          {"samples", w.samples}};
}

ojson report_json(const Report& r) {
  ojson j;
  j["name"] = printable(r.name);
  j["cgroup"] = printable(r.cgroup);
  if (r.kube)
    j["kubernetes"] = {{"namespace", r.kube->ns},   {"pod", r.kube->pod},
                       {"container", r.kube->container}, {"pod_uid", r.kube->pod_uid},
                       {"container_id", r.kube->container_id}, {"qos", r.kube->qos}};
  else
    j["kubernetes"] = nullptr;
  j["current"] = {{"request", size_or_null(r.current.request_bytes)},
                  {"limit", size_or_null(r.current.limit_bytes)},
                  {"request_bytes", bytes_or_null(r.current.request_bytes)},
                  {"limit_bytes", bytes_or_null(r.current.limit_bytes)},
                  {"request_from", r.request_from.empty() ? ojson(nullptr) : ojson(r.request_from)},
                  {"limit_from", r.limit_from.empty() ? ojson(nullptr) : ojson(r.limit_from)}};
  ojson obs = window_json(r.input.long_window);
  obs["short"] = r.input.short_window ? window_json(*r.input.short_window) : ojson(nullptr);
  obs["oom_kills"] = r.input.oom_kills;
  obs["oom_kill_used"] = r.input.oom_used_bytes ? ojson(mib_text(*r.input.oom_used_bytes)) : ojson(nullptr);
  obs["oom_kill_used_bytes"] = r.input.oom_used_bytes ? ojson(*r.input.oom_used_bytes) : ojson(nullptr);
  obs["oom_kills_from"] = r.oom_from.empty() ? ojson(nullptr) : ojson(r.oom_from);
  j["observed"] = obs;
  j["recommended"] = {{"request", quantity(r.rec.request_bytes)}, {"limit", quantity(r.rec.limit_bytes)},
                      {"request_bytes", r.rec.request_bytes},     {"limit_bytes", r.rec.limit_bytes},
                      {"request_term", r.rec.request_term},       {"limit_term", r.rec.limit_term}};
  j["gomemlimit_at_recommended_limit"] =
      r.gomemlimit_bytes ? ojson{{"value", mib_text(*r.gomemlimit_bytes)}, {"bytes", *r.gomemlimit_bytes}} : ojson(nullptr);
  j["confidence"] = confidence_name(r.rec.confidence);
  j["confidence_reason"] = r.rec.confidence_reason.empty() ? ojson(nullptr) : ojson(r.rec.confidence_reason);
  j["propose"] = r.decision.propose;
  j["decision"] = r.decision.reason;
  j["compared_to"] = r.compared_to;
  if (r.last)
    j["last_recommendation"] = {{"at", stats::format_rfc3339(r.last->ts_ns)},         {"ts_ns", r.last->ts_ns},
                                {"request", quantity(r.last->request_bytes)}, {"limit", quantity(r.last->limit_bytes)},
                                {"request_bytes", r.last->request_bytes},     {"limit_bytes", r.last->limit_bytes},
                                {"confidence", r.last->confidence},          {"rationale", r.last->rationale}};
  else
    j["last_recommendation"] = nullptr;
  j["rationale"] = r.rec.rationale;
  return j;
}

ojson document(const std::vector<Report>& rs) {
  ojson arr = ojson::array();
  for (const auto& r : rs) arr.push_back(report_json(r));
  return {{"containers", arr}};
}

// YAML scalars: JSON strings are valid YAML double-quoted scalars, so every
// string is emitted that way; numbers, booleans and null as they are.
void yaml(const ojson& j, int indent, std::string& out, bool in_list_item = false) {
  std::string pad(indent, ' ');
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string lead = (in_list_item && first) ? "" : pad;
    first = false;
    const ojson& v = it.value();
    if (v.is_object()) {
      out += lead + it.key() + ":\n";
      yaml(v, indent + 2, out);
    } else if (v.is_array()) {
      out += lead + it.key() + ":" + (v.empty() ? " []\n" : "\n");
      for (const auto& e : v) {
        out += pad + "- ";
        yaml(e, indent + 2, out, true);
      }
    } else {
      out += lead + it.key() + ": " + v.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
    }
  }
}

std::string cur_text(std::optional<uint64_t> b) {
  if (!b) return "?";
  if (*b == kUnlimited) return "max";
  return quantity(*b);
}

}  // namespace

ojson report_object(const Report& r) { return report_json(r); }

std::string reports_json(const std::vector<Report>& rs) { return json_line(document(rs)); }

std::string to_yaml(const ojson& doc) {
  std::string out;
  yaml(doc, 0, out);
  return out;
}

std::string reports_yaml(const std::vector<Report>& rs) { return to_yaml(document(rs)); }

std::string reports_table(const std::vector<Report>& rs) {
  // The name column is as wide as the longest name: the figures stay under their headers.
  size_t w = 4;
  for (const auto& r : rs) w = std::max(w, text_columns(printable(r.name)));
  auto row = [&](const std::string& name, auto&&... cells) {
    std::string n = name + std::string(w - std::min(w, text_columns(name)), ' ');
    return fmt::format("{} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>8} {:>8} {:<5} {}\n", n, cells...);
  };
  std::string out = row("NAME", "REQUEST", "LIMIT", "WS_AVG", "WS_P95", "WS_MAX", "KILLS", "REC_REQ", "REC_LIM", "CONF",
                        "PROPOSE");
  for (const auto& r : rs) {
    const auto& lw = r.input.long_window;
    out += row(printable(r.name), cur_text(r.current.request_bytes), cur_text(r.current.limit_bytes),
               mib_text(lw.ws_avg_bytes), mib_text(lw.ws_p95_bytes), mib_text(lw.ws_max_bytes),
               std::to_string(r.input.oom_kills), quantity(r.rec.request_bytes), quantity(r.rec.limit_bytes),
               confidence_name(r.rec.confidence), r.decision.propose ? "yes" : "no");
    out += "    " + r.rec.rationale + "\n";
    if (r.input.oom_kills)
      out += fmt::format("    OOM kills at its limit in the window: {} (usage at the last: {}, from the {})\n",
                         r.input.oom_kills, r.input.oom_used_bytes ? mib_text(*r.input.oom_used_bytes) : "?",
                         r.oom_from);
    out += "    decision (against " + r.compared_to + "): " + r.decision.reason + "\n";
    if (r.gomemlimit_bytes)
      out += "    GOMEMLIMIT for Go programs at the recommended limit: " + mib_text(*r.gomemlimit_bytes) + "\n";
    if (r.last)
      out += fmt::format("    last recommendation: {} / {} at {}\n", quantity(r.last->request_bytes),
                         quantity(r.last->limit_bytes), stats::format_rfc3339(r.last->ts_ns));
  }
  return out;
}

}  // namespace ow::recommend
