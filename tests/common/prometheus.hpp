// Debian's real prometheus on 127.0.0.1 (a free port), with its own config
// and TSDB in a temp dir, stopped and removed by its destructor on every
// path. start(port) scrapes an agent every second; start_tsdb() serves a
// TSDB prepared beforehand (promtool tsdb create-blocks-from openmetrics)
// and scrapes nothing; start_jobs(yaml) scrapes the jobs given.
#pragma once
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent_helpers.hpp"
#include "helpers.hpp"

namespace owtest {

struct Prometheus {
  TmpTree dir{"owtest-prom"};
  int port = free_port();
  std::unique_ptr<Background> bg;
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string tsdb() const { return dir.path + "/tsdb"; }
  void start(int target_port, const std::string& rules = "") {
    start_jobs("  - job_name: oomwatch\n    static_configs:\n      - targets: ['127.0.0.1:" +
                   std::to_string(target_port) + "']\n",
               rules);
  }
  // Scrapes every second with these scrape_configs entries (YAML list items,
  // indented two spaces), e.g. jobs with tls_config and basic_auth.
  // rules: a rule file to load (rule_files), evaluated every second.
  void start_jobs(const std::string& jobs, const std::string& rules = "") {
    std::ofstream(dir.path + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        << (rules.empty() ? "" : "rule_files:\n  - '" + rules + "'\n") << "scrape_configs:\n"
        << jobs;
    launch();
  }
  // GET of an API path ("/api/v1/targets"): its "data", null when unanswered.
  nlohmann::json api(const std::string& path) const {
    auto r = run({"curl", "-sS", "--max-time", "5", "--fail", base() + path}, 10);
    if (r.exit_code != 0) return nullptr;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return nullptr;
    return j["data"];
  }
  // Serves tsdb() as it is (fill it first); no scrapes. True once ready.
  bool start_tsdb() {
    std::ofstream(dir.path + "/prometheus.yml") << "global:\n  evaluation_interval: 1m\nscrape_configs: []\n";
    launch();
    return wait_for(
        [&] {
          auto r = run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", base() + "/-/ready"}, 5);
          return r.out == "200" || !alive(bg->pid);
        },
        60000) &&
           alive(bg->pid);
  }
  // An instant query's whole result (an array of {metric, value}); null
  // when the query failed.
  nlohmann::json query_all(const std::string& promql) const {
    auto r = run({"curl", "-sS", "--max-time", "5", "--fail", "-G", base() + "/api/v1/query", "--data-urlencode",
                  "query=" + promql},
                 10);
    if (r.exit_code != 0) return nullptr;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return nullptr;
    return j["data"]["result"];
  }
  // The value of an instant query's first series; nullopt when it has none.
  std::optional<double> query(const std::string& promql) const {
    auto res = query_all(promql);
    if (!res.is_array() || res.empty()) return std::nullopt;
    return std::stod(res[0]["value"][1].get<std::string>());
  }
  // Waits (up to timeout_ms) until the query has a value that pred accepts.
  bool until(const std::string& promql, const std::function<bool(double)>& pred, int timeout_ms = 30000) const {
    return wait_for(
        [&] {
          auto v = query(promql);
          return v && pred(*v);
        },
        timeout_ms);
  }

 private:
  void launch() {
    bg = owtest::start({"/usr/bin/prometheus", "--config.file=" + dir.path + "/prometheus.yml",
                        "--storage.tsdb.path=" + tsdb(), "--web.listen-address=127.0.0.1:" + std::to_string(port),
                        "--log.level=warn"});
  }
};

}  // namespace owtest
