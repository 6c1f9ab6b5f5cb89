// Embedded dygraphs: see report_assets.hpp. The .inc files are the installed
// files wrapped in raw string literals by the Makefile.
#include "view/report_assets.hpp"

namespace ow::view {
namespace {
constexpr char kJs[] =
#include "gen/dygraph_js.inc"
    ;
constexpr char kCss[] =
#include "gen/dygraph_css.inc"
    ;
}  // namespace

std::string_view dygraphs_js() { return {kJs, sizeof kJs - 1}; }
std::string_view dygraphs_css() { return {kCss, sizeof kCss - 1}; }
std::string_view dygraphs_version() { return "2.2.1 (Debian libjs-dygraphs)"; }

}  // namespace ow::view
