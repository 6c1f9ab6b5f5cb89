#include "recommend/replay_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "recommend/quantity.hpp"
#include "stats/time.hpp"
#include "util/text.hpp"

namespace ow::recommend {
namespace {

using ojson = nlohmann::ordered_json;

ojson row_json(const ReplayRow& r) {
  ojson j;
  j["request"] = r.request_bytes ? ojson(quantity(*r.request_bytes)) : ojson(nullptr);
  j["limit"] = r.limit_bytes ? ojson(quantity(*r.limit_bytes)) : ojson(nullptr);
  j["request_bytes"] = r.request_bytes ? ojson(*r.request_bytes) : ojson(nullptr);
  j["limit_bytes"] = r.limit_bytes ? ojson(*r.limit_bytes) : ojson(nullptr);
  if (r.result) {
    j["oom_episodes"] = r.result->oom_episodes;
    j["samples_above_limit"] = r.result->samples_above_limit;
    // Figures against the request need one.
    j["time_above_request"] = r.request_bytes ? ojson(duration_text(r.result->time_above_request_ns)) : ojson(nullptr);
    j["time_above_request_ns"] = r.request_bytes ? ojson(r.result->time_above_request_ns) : ojson(nullptr);
    j["avg_over_request"] = r.request_bytes ? ojson(mib_text(r.result->avg_over_request_bytes)) : ojson(nullptr);
    j["avg_over_request_bytes"] = r.request_bytes ? ojson(r.result->avg_over_request_bytes) : ojson(nullptr);
  } else {
    j["oom_episodes"] = nullptr;
  }
  j["rationale"] = r.rationale;
  return j;
}

ojson document(const std::vector<ReplayReport>& rs) {
  ojson arr = ojson::array();
  for (const auto& r : rs)
    arr.push_back({{"name", printable(r.name)},
                   {"cgroup", printable(r.cgroup)},
                   {"from", stats::format_rfc3339(r.from_ns)},
                   {"to", stats::format_rfc3339(r.to_ns)},
                   {"points", r.points},
                   {"bucket_points", r.bucket_points},
                   {"recorded_oom_kills", r.recorded_kills},
                   {"seed", row_json(r.seed)},
                   {"vpa", row_json(r.vpa)},
                   {"current", row_json(r.current)}});
  return {{"replay", arr}};
}

std::string cell(const std::optional<uint64_t>& b) { return b ? quantity(*b) : "?"; }

}  // namespace

std::string replays_json(const std::vector<ReplayReport>& rs) { return json_line(document(rs)); }
std::string replays_yaml(const std::vector<ReplayReport>& rs) { return to_yaml(document(rs)); }

std::string replays_table(const std::vector<ReplayReport>& rs) {
  size_t w = 4;  // the name column as wide as the longest name: the figures stay under their headers
  for (const auto& r : rs) w = std::max(w, text_columns(printable(r.name)));
  auto line = [&](const std::string& name, auto&&... cells) {
    std::string n = name + std::string(w - std::min(w, text_columns(name)), ' ');
    return fmt::format("{} {:<8} {:>9} {:>9} {:>8} {:>9} {:>12} {:>12}\n", n, cells...);
  };
  std::string out = line("NAME", "RULE", "REQUEST", "LIMIT", "OOMS", "ABOVE_LIM", "ABOVE_REQ", "OVER_REQ");
  for (const auto& r : rs) {
    for (auto [rule, row] : {std::pair{"seed", &r.seed}, std::pair{"vpa", &r.vpa}, std::pair{"current", &r.current}}) {
      std::string ooms = "-", above = "-", t = "-", over = "-";
      if (row->result) {
        ooms = std::to_string(row->result->oom_episodes);
        above = std::to_string(row->result->samples_above_limit);
        if (row->request_bytes) {
          t = duration_text(row->result->time_above_request_ns);
          over = mib_text(row->result->avg_over_request_bytes);
        }
      }
      // A row replayed without a limit has none (VPA's, when there is none now); "?" is unknown.
      std::string lim = !row->limit_bytes && row->result ? "none" : cell(row->limit_bytes);
      out += line(printable(r.name), rule, cell(row->request_bytes), lim, ooms, above, t, over);
    }
    if (r.recorded_kills)
      out += fmt::format("    recorded: {} OOM kill(s) at its limit in the window; OOMS counts those a rule's limit "
                         "would not have prevented\n",
                         r.recorded_kills);
  }
  return out;
}

}  // namespace ow::recommend
