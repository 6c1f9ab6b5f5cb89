#include "cli/recommend_backtest.hpp"

#include <CLI/CLI.hpp>

#include "cli/common.hpp"
#include "recommend/backtest_report.hpp"
#include "recommend/quantity.hpp"
#include "util/units.hpp"

namespace ow::cli {

void add_backtest_options(CLI::App* sub, BacktestOpts& o) {
  auto* on = sub->add_flag("--backtest", o.on,
                "step through recorded working sets out of sample: oomwatch's rules, the VPA model and the static limit, "
                "each deciding from the data before a step and scored on the data after it");
  sub->add_option("--backtest-trace", o.traces,
                  "with --backtest: a recorded trace (oomwatch collect --out FILE.csv|FILE.jsonl) instead of the "
                  "database; repeatable")
      ->type_name("FILE")
      ->needs(on);
  sub->add_option("--backtest-step", o.step, "with --backtest: the time between two decisions")
      ->type_name("DUR")
      ->capture_default_str()
      ->needs(on);
  sub->add_option("--current-request", o.current_request,
                  "with --backtest: the request in force at the start")
      ->type_name("SIZE")
      ->default_str("the one recommend finds, else the limit")
      ->needs(on);
  sub->add_option("--current-limit", o.current_limit,
                  "with --backtest: the static limit, in force at the start")
      ->type_name("SIZE")
      ->default_str("the recorded one")
      ->needs(on);
}

int parse_backtest_opts(const BacktestOpts& o, recommend::BacktestOptions& opts, std::optional<uint64_t>& request,
                        std::optional<uint64_t>& limit) {
  auto d = parse_duration(o.step);
  if (!d) return fail(kExitUsage, "--backtest-step: " + d.error().message());
  if (d->count() <= 0) return fail(kExitUsage, "--backtest-step: duration must be positive, got '" + o.step + "'");
  opts.step_ns = d->count();
  for (auto [flag, text, out] : {std::tuple{"--current-request", &o.current_request, &request},
                                 std::tuple{"--current-limit", &o.current_limit, &limit}}) {
    if (text->empty()) continue;
    auto s = parse_size(*text);
    if (!s) return fail(kExitUsage, std::string(flag) + ": " + s.error().message());
    if (*s == 0) return fail(kExitUsage, std::string(flag) + ": must be positive, got '" + *text + "'");
    *out = *s;
  }
  if (request && limit && *request > *limit)
    return fail(kExitUsage, "--current-request " + o.current_request + " is above --current-limit " + o.current_limit);
  if (auto bad = recommend::check_backtest_options(opts); !bad.empty()) return fail(kExitUsage, bad);
  return kExitOk;
}

int read_backtest_traces(const BacktestOpts& o, std::vector<advisor::BacktestSeries>& out) {
  for (const auto& path : o.traces) {
    auto s = advisor::read_trace(path);
    // A file read but not understood is bad input; one that cannot be read, the environment.
    if (!s) return fail(s.error().err ? kExitEnv : kExitUsage, s.error(), "record one with oomwatch collect --out FILE.csv (tests/traces/README.md)");
    for (auto& x : *s) out.push_back(std::move(x));
  }
  return kExitOk;
}

int run_backtests(std::vector<advisor::BacktestSeries> series, const recommend::BacktestOptions& opts,
                  std::optional<uint64_t> request, std::optional<uint64_t> limit, const std::string& format) {
  if (format != "table" && format != "json") return fail(kExitUsage, "--backtest prints --format table or json, not " + format);
  std::vector<recommend::BacktestReport> reports;
  for (auto& s : series) {
    if (limit) s.series.limit_bytes = limit;
    if (request) s.series.request_bytes = request;
    if (s.series.request_bytes && s.series.limit_bytes && *s.series.request_bytes > *s.series.limit_bytes)
      return fail(kExitUsage, s.series.name + ": the request " + recommend::quantity(*s.series.request_bytes) +
                                  " is above the limit " + recommend::quantity(*s.series.limit_bytes) +
                                  ": give --current-request or --current-limit");
    auto r = recommend::backtest(s.series, opts);
    if (!r) return fail(kExitUsage, r.error());
    reports.push_back({s.series.name, s.source, opts.step_ns, std::move(*r)});
  }
  print_text(format == "json" ? recommend::backtests_json(reports) + "\n" : recommend::backtests_table(reports));
  return kExitOk;
}

}  // namespace ow::cli
