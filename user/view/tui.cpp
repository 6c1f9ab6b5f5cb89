// ncurses drawing and keys of `oomwatch top`: see tui.hpp. Everything shown
// comes from frame.hpp's strings; this file only places them and colours bars.
#include "view/tui.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "stats/time.hpp"
#include "util/text.hpp"
#include "view/frame.hpp"

// Last: its macros (move, refresh, erase, timeout) would rewrite the standard headers.
#include <ncurses.h>

namespace ow::view {
namespace {

constexpr int kBarWidth = 20;
constexpr int kPaneLines = 6;  // events shown under the table

// newterm/endwin as a scope, so every exit path gives the terminal back.
// newterm, unlike initscr, returns an error for an unknown TERM instead of
// exiting the process.
class Curses {
 public:
  static Result<std::unique_ptr<Curses>> open() {
    const char* term = std::getenv("TERM");
    SCREEN* s = newterm(nullptr, stdout, stdin);
    if (!s)
      return app_error(std::string("terminal type '") + (term ? term : "") +
                       "' is unknown to terminfo: set TERM (e.g. xterm-256color; entries come with ncurses-base), or use --batch");
    auto c = std::unique_ptr<Curses>(new Curses(s));
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    set_escdelay(25);  // Esc leaves the filter prompt at once, not after ncurses' default second
    curs_set(0);
    if (has_colors()) {
      start_color();
      use_default_colors();
      init_pair(1, COLOR_GREEN, -1);   // working set
      init_pair(2, COLOR_YELLOW, -1);  // rest of usage
      init_pair(3, COLOR_RED, -1);     // OOM kill events
    }
    return c;
  }
  ~Curses() {
    endwin();
    delscreen(screen_);
  }
  Curses(const Curses&) = delete;
  Curses& operator=(const Curses&) = delete;

 private:
  explicit Curses(SCREEN* s) : screen_(s) {}
  SCREEN* screen_;
};

void put(int y, int x, const std::string& s, int cols) {
  if (x >= cols) return;
  std::string_view fit = text_head(s, static_cast<size_t>(cols - x));  // never inside a UTF-8 sequence
  mvaddnstr(y, x, fit.data(), static_cast<int>(fit.size()));
}

// The row text with its bar coloured: '=' working set, '-' the rest of usage.
// Only the bar's cells: a path or a growth figure may hold '-' too.
void draw_row(int y, const Row& r, int cols) {
  std::string line = format_row(r, cols, kBarWidth);
  const int bar_from = bar_column() + 1, bar_to = bar_from + kBarWidth;  // inside the brackets
  move(y, 0);
  // format_row cut the line to cols characters; byte x is column x up to the
  // path, which is the last cell (the bar comes before it).
  for (int x = 0; x < static_cast<int>(line.size()); ++x) {
    char c = line[static_cast<size_t>(x)];
    int attr = A_NORMAL;
    if (x >= bar_from && x < bar_to) attr = c == '=' ? (COLOR_PAIR(1) | A_REVERSE) : c == '-' ? (COLOR_PAIR(2) | A_REVERSE) : A_NORMAL;
    addch(static_cast<unsigned char>(c) | attr);
  }
}

struct State {
  ViewOptions view;
  bool editing = false;
  std::string edit;
};

void draw(const TopModel& model, const TuiOptions& opts, State& st, const std::vector<Event>& events) {
  int rows_total = LINES, cols = COLS;
  erase();
  int pane = std::min(kPaneLines, std::max(1, rows_total / 4));
  const std::string log = opts.log_line ? opts.log_line() : std::string();
  int table = std::max(1, rows_total - 3 - pane - 1 - (log.empty() ? 0 : 1));
  ViewOptions v = st.view;
  v.top = opts.view.top ? std::min<size_t>(opts.view.top, static_cast<size_t>(table)) : static_cast<size_t>(table);
  Page page = model.rows(v);
  if (page.rows.empty() && st.view.offset > 0 && page.matched > 0) {  // paged past the end (filter narrowed it)
    st.view.offset = v.offset = 0;
    page = model.rows(v);
  }
  std::string title = "oomwatch top  " + stats::format_rfc3339(model.last_ts_ns()).substr(0, 19) + "Z  cgroups " +
                      std::to_string(page.total) + "  shown " + std::to_string(v.offset + (page.rows.empty() ? 0 : 1)) +
                      "-" + std::to_string(v.offset + page.rows.size()) + " of " + std::to_string(page.matched) +
                      "  sort " + sort_key_name(v.sort) + (v.tree ? "  tree" : "") +
                      (v.filter.empty() ? "" : "  filter " + printable(v.filter)) + "  [" + opts.source + "]";
  attron(A_BOLD);
  put(0, 0, title, cols);
  attroff(A_BOLD);
  attron(A_REVERSE);
  std::string hdr = format_header(cols);
  // The bar column sits between the figures and the path.
  auto at = hdr.rfind("CGROUP");
  if (at != std::string::npos) hdr.insert(at, std::string("BAR (=ws -usage)") + std::string(kBarWidth + 3 - 16, ' '));
  hdr.resize(static_cast<size_t>(cols), ' ');
  put(1, 0, hdr, cols);
  attroff(A_REVERSE);
  int y = 2;
  for (const auto& r : page.rows) draw_row(y++, r, cols);
  int py = rows_total - pane - 1;
  if (!log.empty()) {
    attron(COLOR_PAIR(2) | A_BOLD);
    put(py - 2, 0, "log " + printable(log), cols);
    attroff(COLOR_PAIR(2) | A_BOLD);
  }
  attron(A_BOLD);
  put(py - 1, 0, "latest OOM kills and agent actions:" + std::string(events.empty() ? " none" : ""), cols);
  attroff(A_BOLD);
  size_t first = events.size() > static_cast<size_t>(pane) ? events.size() - static_cast<size_t>(pane) : 0;
  for (size_t i = first; i < events.size(); ++i) {
    bool kill = events[i].kind == "oom_kill";
    if (kill) attron(COLOR_PAIR(3));
    put(py++, 0, format_event(events[i]), cols);
    if (kill) attroff(COLOR_PAIR(3));
  }
  std::string help = st.editing ? "filter: " + printable(st.edit) + "_   (Enter keep, Esc clear)"
                                : "s sort  u/p/g/n usage/%/growth/name  / filter  t tree  PgUp/PgDn page  q quit";
  attron(A_REVERSE);
  help.resize(static_cast<size_t>(std::max(0, cols - 1)), ' ');
  put(rows_total - 1, 0, help, cols);
  attroff(A_REVERSE);
  refresh();
}

// true: quit.
bool on_key(int ch, State& st, int page_rows) {
  if (st.editing) {
    if (ch == '\n' || ch == KEY_ENTER) {
      st.editing = false;
      st.view.filter = st.edit;
      st.view.offset = 0;
    } else if (ch == 27) {
      st.editing = false;
      st.edit.clear();
      st.view.filter.clear();
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
      if (!st.edit.empty()) st.edit.pop_back();
    } else if (ch >= 32 && ch < 127) {
      st.edit.push_back(static_cast<char>(ch));
    }
    return false;
  }
  size_t step = static_cast<size_t>(std::max(1, page_rows));
  switch (ch) {
    case 'q': case 'Q': return true;
    case 's': st.view.sort = next_sort_key(st.view.sort); break;
    case 'u': st.view.sort = SortKey::Usage; break;
    case 'p': case '%': st.view.sort = SortKey::Percent; break;
    case 'g': st.view.sort = SortKey::Growth; break;
    case 'n': st.view.sort = SortKey::Name; break;
    case 't': st.view.tree = !st.view.tree; break;
    case '/': st.editing = true; st.edit = st.view.filter; break;
    case KEY_NPAGE: case ' ': st.view.offset += step; break;
    case KEY_PPAGE: st.view.offset = st.view.offset > step ? st.view.offset - step : 0; break;
    case KEY_DOWN: ++st.view.offset; break;
    case KEY_UP: if (st.view.offset) --st.view.offset; break;
    case KEY_HOME: st.view.offset = 0; break;
    default: break;
  }
  return false;
}

}  // namespace

Status run_tui(TopModel& model, const TuiOptions& opts, const std::function<Result<std::vector<Event>>()>& take,
               const std::function<bool()>& stop) {
  auto events = take();
  if (!events) return events.error();
  auto curses = Curses::open();
  if (!curses) return curses.error();
  State st;
  st.view = opts.view;
  st.view.top = 0;
  long done = 1;
  using Clock = std::chrono::steady_clock;
  auto next = Clock::now() + opts.interval;
  draw(model, opts, st, *events);
  while (!stop()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    if (ms <= 0) {
      if (opts.iterations && done >= opts.iterations) break;
      events = take();
      if (!events) return events.error();
      ++done;
      next = Clock::now() + opts.interval;
      draw(model, opts, st, *events);
      continue;
    }
    timeout(static_cast<int>(std::min<long long>(ms, 200)));  // short: SIGINT is seen promptly
    int ch = getch();
    if (ch == ERR) continue;
    if (ch == KEY_RESIZE) {
      draw(model, opts, st, *events);
      continue;
    }
    if (on_key(ch, st, LINES - kPaneLines - 5)) break;
    draw(model, opts, st, *events);
  }
  return {};
}

}  // namespace ow::view
