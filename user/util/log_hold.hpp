// Holding the operator log while a full-screen view owns the terminal: lines
// written to stderr under ncurses land in the middle of the screen and are
// gone at the next redraw. While a LogHold is alive the default logger's
// lines are kept instead (the view may show the newest); when it ends, the
// logger's own sinks come back and every kept line is written to them in
// order, with its original time. Past max_lines the oldest are dropped and
// counted, and the count is logged after the replay.
#pragma once
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "util/noncopyable.hpp"

namespace ow {

class LogHold : NonCopyable {
 public:
  explicit LogHold(size_t max_lines = 1000);
  ~LogHold();

  // The newest held message ("" when none): its level and text, no time.
  std::string last() const;
  size_t held() const;

 private:
  class Sink;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<spdlog::sink_ptr> saved_;
};

}  // namespace ow
