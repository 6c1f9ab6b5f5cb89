// Text of `oomwatch top`: the columns of one row, the bar, the event pane
// lines, whole --batch frames and the --json document. Pure. The ncurses
// screen (tui.cpp) draws the same strings, so both views agree.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "view/model.hpp"

namespace ow::view {

// "[====---    ]" of `width` cells inside the brackets: '=' the working set,
// '-' the rest of usage, ' ' up to the limit. Unlimited: "" (no bar).
std::string bar(uint64_t usage, uint64_t ws, uint64_t limit, int width);

// Column headers and one row's cells, in the same order (see kColumns in frame.cpp).
std::vector<std::string> header_cells();
std::vector<std::string> row_cells(const Row& r);
// Cells padded to the column widths; the cgroup column (last) is indented
// by depth in the tree view, and a path too long for `width` characters
// keeps its end ("..ab/leaf").
std::string format_header(int width);
std::string format_row(const Row& r, int width, int bar_width);
// Where format_row's bar starts (its '['): after the figure columns.
int bar_column();
std::string format_event(const Event& e);

struct FrameInfo {
  int64_t ts_ns = 0;
  std::string source;    // "bpf-iter" or "cgroupfs"
  std::string sort, filter;
  bool tree = false;
};

// One --batch frame: a summary line, the header, the rows, then the events.
std::string batch_frame(const FrameInfo& info, const Page& page, const std::vector<Event>& events, int width);
// One --json frame (one line each): {ts, source, sort, filter, tree, total,
// matched, rows:[...], events:[...]}; bytes as integers, no limit and a
// figure that does not exist (v1 memory.high, growth in the first frame, an
// unknown peak) as null.
nlohmann::ordered_json json_frame(const FrameInfo& info, const Page& page, const std::vector<Event>& events);

}  // namespace ow::view
