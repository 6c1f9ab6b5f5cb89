// The charting library embedded in every `report --html` file: dygraphs
// (Debian libjs-dygraphs, MIT), its minified script and stylesheet, compiled
// into the binary from the installed files (Makefile: $(BUILD)/gen/), so a
// report needs no network and no files beside the binary.
#pragma once
#include <string_view>

namespace ow::view {

std::string_view dygraphs_js();
std::string_view dygraphs_css();
std::string_view dygraphs_version();

}  // namespace ow::view
