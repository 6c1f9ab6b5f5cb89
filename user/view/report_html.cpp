// The HTML report page: see report_html.hpp.
#include "view/report_html.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "stats/time.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::view {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// MiB with 2 decimals: short numbers keep the file small, 10 KiB resolution is plenty.
nlohmann::json mib(uint64_t b) {
  if (b == kUnlimited) return nullptr;
  return std::round(static_cast<double>(b) / kMiB * 100.0) / 100.0;
}

std::string size_cell(uint64_t b) { return b == kUnlimited ? "max" : format_size(b); }

std::string when(int64_t ts) { return stats::format_rfc3339(ts).substr(0, 19) + "Z"; }

// JSON inside <script>. "</script" would end the element and "<!--" would
// switch the HTML parser into its escaped script state, where the page's own
// "</script>" no longer ends it (the charts never draw). '<', '>' and '&'
// occur only inside JSON strings, where \u003c, \u003e and \u0026 are the
// same characters to the script; ensure_ascii writes U+2028 and U+2029 (line
// terminators to older JavaScript) as \u escapes too.
std::string script_json(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

const char* kStyle = R"css(
body{font-family:sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin:1.2em 0 .3em;font-family:monospace}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,th:first-child{text-align:left;font-family:monospace}
.chart{width:900px;height:240px}.note{color:#666;font-size:.85em}
.ev{font-size:.8em;font-family:monospace;margin:.2em 0 .8em}.kill{color:#c92a2a}.act{color:#364fc7}
#ow-status{display:none}
)css";

// The page's script: one Dygraph per cgroup, markers drawn under the lines.
const char* kScript = R"js(
(function () {
  "use strict";
  var errors = [], drawn = 0, status = document.getElementById("ow-status");
  function mark() {
    if (errors.length) { status.textContent = "error: " + errors.join("; "); document.title = "oomwatch report: error"; }
    else if (drawn === OW.cgroups.length) { status.textContent = "rendered " + drawn; document.title = "oomwatch report: rendered " + drawn + " charts"; }
  }
  window.addEventListener("error", function (e) { errors.push(String(e.message)); mark(); });
  OW.cgroups.forEach(function (c, i) {
    try {
      var rows = c.t.map(function (t, k) { return [new Date(OW.from_ms + t), c.u[k], c.w[k], c.l[k]]; });
      if (!rows.length) rows = [[new Date(OW.from_ms), null, null, null], [new Date(OW.to_ms), null, null, null]];
      var div = document.getElementById("chart-" + i);
      new Dygraph(div, rows, {
        labels: ["time", "usage MiB", "working set MiB", "limit MiB"],
        colors: ["#e8590c", "#2b8a3e", "#868e96"],
        ylabel: "MiB", includeZero: true, legend: "follow", labelsUTC: true,
        dateWindow: [OW.from_ms, OW.to_ms],
        underlayCallback: function (ctx, area, g) {
          c.e.forEach(function (e) {
            var x = g.toDomXCoord(OW.from_ms + e.t);
            ctx.fillStyle = e.k === "oom_kill" ? "rgba(201,42,42,0.85)" : "rgba(54,79,199,0.85)";
            ctx.fillRect(x - 1, area.y, 2, area.h);
          });
        },
        drawCallback: function (g, first) { if (first) { drawn++; div.setAttribute("data-rendered", "1"); mark(); } }
      });
    } catch (e) { errors.push(c.path + ": " + e.message); mark(); }
  });
  mark();
})();
)js";

}  // namespace

std::string html_escape(std::string_view raw) {
  std::string s = printable(raw), out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_html(const ReportData& d, std::string_view js, std::string_view css) {
  const int64_t from_ms = d.from_ns / 1'000'000, to_ms = d.to_ns / 1'000'000;
  nlohmann::json data;
  data["from_ms"] = from_ms;
  data["to_ms"] = to_ms;
  auto& cgs = data["cgroups"] = nlohmann::json::array();
  for (const auto& c : d.cgroups) {
    nlohmann::json t = nlohmann::json::array(), u = t, w = t, l = t, e = t;
    for (const auto& p : c.series.points) {
      t.push_back(p.start_ns / 1'000'000 - from_ms);
      u.push_back(mib(p.usage_max_bytes));
      w.push_back(mib(p.ws_max_bytes));
      l.push_back(mib(p.limit_bytes));
    }
    for (const auto& ev : c.events)
      e.push_back({{"t", ev.ts_ns / 1'000'000 - from_ms},
                   {"k", ev.kind == "oom_kill" && ev.source != "audit" ? "oom_kill" : "action"}});
    cgs.push_back({{"path", printable(c.path)}, {"t", t}, {"u", u}, {"w", w}, {"l", l}, {"e", e}});
  }

  std::string h;
  h.reserve(js.size() + 4096 + d.cgroups.size() * 8192);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>oomwatch report (rendering)</title>\n";
  h += "<style>";
  h += css;
  h += kStyle;
  h += "</style>\n<script>";
  h += js;
  h += "</script>\n</head><body>\n<div id=\"ow-status\">loading</div>\n";
  h += "<h1>oomwatch report " + when(d.from_ns) + " – " + when(d.to_ns) + "</h1>\n";
  if (!d.window_note.empty()) h += "<p class=\"note\" id=\"window\">window: " + html_escape(d.window_note) + "</p>\n";
  h += "<p class=\"note\">history " + html_escape(d.db_path) + "; audit log " + html_escape(d.audit_note) + "; " +
       std::to_string(d.cgroups.size()) + " of " + std::to_string(d.total_cgroups) +
       " cgroups with samples (by peak usage; --top, --cgroup choose); generated " + when(d.generated_ns) +
       ". Charts: highest usage and working set per slot, the limit; markers: <span class=\"kill\">OOM kill</span>, "
       "<span class=\"act\">agent action</span>.</p>\n";
  if (d.cgroups.empty()) h += "<p><b>No samples in this window.</b></p>\n";

  // Statistics and recommendations, one row per cgroup.
  if (!d.cgroups.empty()) {
    h += "<table id=\"stats\"><tr><th>cgroup</th><th>samples</th><th>usage min</th><th>avg</th><th>median</th>"
         "<th>p95</th><th>max</th><th>ws avg</th><th>ws p95</th><th>ws max</th><th>limit</th><th>OOM kills</th>"
         "<th>actions</th><th>recommended request</th><th>limit</th><th>confidence</th><th>agent's last</th></tr>\n";
    for (const auto& c : d.cgroups) {
      size_t kills = c.kill_count(), actions = c.events.size() - kills;
      h += "<tr><td>" + html_escape(c.path) + "</td>";
      if (c.stats) {
        const auto& s = *c.stats;
        for (auto v : {s.samples}) h += "<td>" + std::to_string(v) + "</td>";
        for (auto v : {s.min_bytes, s.avg_bytes, s.median_bytes, s.p95_bytes, s.max_bytes, s.ws_avg_bytes,
                       s.ws_p95_bytes, s.ws_max_bytes})
          h += "<td>" + format_size(v) + "</td>";
      } else {
        h += "<td colspan=\"9\">no statistics</td>";
      }
      uint64_t lim = c.series.points.empty() ? kUnlimited : c.series.points.back().limit_bytes;
      h += "<td>" + size_cell(lim) + "</td><td>" + std::to_string(kills) + "</td><td>" + std::to_string(actions) + "</td>";
      if (c.recommendation) {
        const auto& r = *c.recommendation;
        h += "<td>" + format_size(r.request_bytes) + "</td><td title=\"" + html_escape(r.rationale) + "\">" +
             format_size(r.limit_bytes) + "</td><td>" + html_escape(r.confidence) + "</td>";
      } else {
        h += "<td colspan=\"3\">none (no working set recorded)</td>";
      }
      if (c.stored)
        h += "<td>" + format_size(c.stored->request_bytes) + " / " + format_size(c.stored->limit_bytes) + " at " +
             when(c.stored->ts_ns) + "</td>";
      else
        h += "<td>-</td>";
      h += "</tr>\n";
    }
    h += "</table>\n";
  }

  for (size_t i = 0; i < d.cgroups.size(); ++i) {
    const auto& c = d.cgroups[i];
    h += "<h2>" + html_escape(c.path) + "</h2>\n<div class=\"chart\" id=\"chart-" + std::to_string(i) + "\"></div>\n";
    if (!c.events.empty()) {
      h += "<div class=\"ev\">";
      size_t shown = 0;
      for (const auto& e : c.events) {
        if (++shown > 20) {
          h += "… " + std::to_string(c.events.size() - 20) + " more<br>";
          break;
        }
        h += std::string("<span class=\"") + (e.kind == "oom_kill" && e.source != "audit" ? "kill" : "act") + "\">" +
             when(e.ts_ns) + " " + html_escape(e.kind) + " " + html_escape(e.detail) + " (" + e.source + ")</span><br>";
      }
      h += "</div>\n";
    }
  }
  if (!d.other_events.empty()) {
    h += "<h2>other agent actions</h2><div class=\"ev\">";
    size_t shown = 0;
    for (const auto& e : d.other_events) {
      if (++shown > 50) break;
      h += when(e.ts_ns) + " " + html_escape(e.kind) + " " + html_escape(e.cgroup) + " " + html_escape(e.detail) + "<br>";
    }
    h += "</div>\n";
  }
  h += "<script>var OW = " + script_json(data) + ";</script>\n<script>";
  h += kScript;
  h += "</script>\n</body></html>\n";
  return h;
}

}  // namespace ow::view
