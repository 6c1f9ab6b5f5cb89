// The full-screen `oomwatch top` (ncurses; terminfo from the system's
// ncurses-base). Draws TopModel pages and the event pane, reads keys:
//   s cycle sort (u usage, p % of limit, g growth, n name), / filter (Enter
//   keeps, Esc clears), t tree view, arrows/PgUp/PgDn/Home page, q quit.
// The caller owns sampling: take() takes a snapshot into the model and
// returns the events for the pane; it is called every interval.
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "util/result.hpp"
#include "view/model.hpp"

namespace ow::view {

struct TuiOptions {
  ViewOptions view;
  std::chrono::milliseconds interval{1000};
  long iterations = 0;   // stop after this many refreshes (0: until q)
  std::string source;    // shown in the title line
  std::function<std::string()> log_line;  // the newest log message, shown above the pane ("" none)
};

// take: one snapshot into the model; an error ends the screen and is returned.
// stop: polled between keys (SIGINT/SIGTERM).
Status run_tui(TopModel& model, const TuiOptions& opts, const std::function<Result<std::vector<Event>>()>& take,
               const std::function<bool()>& stop);

}  // namespace ow::view
