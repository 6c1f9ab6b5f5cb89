// `oomwatch recommend --backtest`: one table per workload (rules, vpa,
// static side by side) and a total over all of them; or one JSON line. Pure.
#pragma once
#include <string>
#include <vector>

#include "recommend/backtest.hpp"

namespace ow::recommend {

struct BacktestReport {
  std::string name, source;  // the workload; where its series came from (a trace file, a cgroup in the db)
  int64_t step_ns = 0;
  BacktestResult result;
};

std::string backtests_json(const std::vector<BacktestReport>& rs);  // {"backtest":[...],"total":{...}}
std::string backtests_table(const std::vector<BacktestReport>& rs);

}  // namespace ow::recommend
