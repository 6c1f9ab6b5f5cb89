// `oomwatch recommend --backtest`: the rules, the VPA model and the static
// limit stepped through recorded series out of sample (recommend/backtest.hpp),
// from trace files (--backtest-trace) or the node's history database.
#pragma once
#include <string>
#include <vector>

#include "advisor/backtest_gather.hpp"
#include "recommend/backtest.hpp"

namespace CLI {
class App;
}

namespace ow::cli {

struct BacktestOpts {
  bool on = false;
  std::vector<std::string> traces;
  std::string step = "1h", current_request, current_limit;
};

// Registers --backtest and its own flags (each needs --backtest).
void add_backtest_options(CLI::App* sub, BacktestOpts& o);

// --backtest-step and the --current-* overrides into opts and overrides
// (0, or the exit code of the one-line error printed).
int parse_backtest_opts(const BacktestOpts& o, recommend::BacktestOptions& opts, std::optional<uint64_t>& request,
                        std::optional<uint64_t>& limit);

// Reads every --backtest-trace file (0, or the exit code of the error printed).
int read_backtest_traces(const BacktestOpts& o, std::vector<advisor::BacktestSeries>& out);

// Applies the overrides, runs each series and prints them in format (table|json).
int run_backtests(std::vector<advisor::BacktestSeries> series, const recommend::BacktestOptions& opts,
                  std::optional<uint64_t> request, std::optional<uint64_t> limit, const std::string& format);

}  // namespace ow::cli
