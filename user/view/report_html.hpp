// One self-contained HTML file for `report --html`: the embedded dygraphs
// library (report_assets), the data as one JSON object, a chart per cgroup
// (usage, working set, limit; OOM kills red and agent actions blue as
// vertical markers) and a table of window statistics and recommendations.
// The page's script sets <div id="ow-status"> (and the title) to
// "rendered N" once every chart has drawn, or to "error: ..." on a script
// error, so headless browsers and tests can tell. Pure.
#pragma once
#include <string>
#include <string_view>

#include "view/report_model.hpp"

namespace ow::view {

std::string render_html(const ReportData& d, std::string_view js, std::string_view css);

// &, <, >, " and ' as entities; kernel bytes made printable first.
std::string html_escape(std::string_view s);

}  // namespace ow::view
