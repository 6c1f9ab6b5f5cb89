// Prometheus's HTTP API (/api/v1/query, /api/v1/query_range): URL building
// with escaping, and the JSON answers parsed into series. Parsing is pure; a
// "status":"error" body, an unexpected result type, and NaN/Inf or negative
// values are errors naming the query (a figure is never made from them).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fleet/http_client.hpp"
#include "util/result.hpp"

namespace ow::fleet {

using Labels = std::map<std::string, std::string>;

struct Point {
  int64_t ts_ms = 0;
  double value = 0;
};

struct Series {
  Labels labels;
  std::vector<Point> points;  // ascending time
};

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_escape(const std::string& s);
// base "http://h:9090[/prefix][/]" + path + "?k=v&..." (values escaped).
std::string build_url(const std::string& base, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& params);
// Seconds with millisecond precision, as Prometheus takes them: "1700000000.123".
std::string prom_time(int64_t ts_ms);
// A step/range duration in Prometheus's syntax: 30000 -> "30s", 29999 -> "29s999ms".
std::string prom_duration(int64_t ms);

// The answer of a query_range ("matrix") or an instant query ("vector" or
// "matrix"); an error body or HTTP status gives Prometheus's own message.
// Parsed as it is read (prom_answer.cpp): memory is the series' points, a
// small multiple of the answer, never a DOM of it.
Result<std::vector<Series>> parse_answer(int http_status, const std::string& body, const std::string& query);
// The query as messages quote it: at most 160 bytes.
std::string short_query(const std::string& q);

// {a="x", b="y"}: for messages.
std::string labels_text(const Labels& l);

// The largest answer taken, by kind. Parsed, an answer costs 16 bytes a
// sample and about 100 to 150 a label, on top of its text while it is
// parsed: a range answer (hundreds of samples a series) peaks at about 1.7x
// its size, an instant one (one sample and its labels a series) at about
// 6x. These bounds keep either under about 450 MB (docs/safety.md).
constexpr size_t kMaxRangeAnswerBytes = 256u << 20;
constexpr size_t kMaxInstantAnswerBytes = 64u << 20;

class PromClient {
 public:
  explicit PromClient(std::string base, HttpOptions o = {}) : base_(std::move(base)), http_(o) {}
  Result<std::vector<Series>> query(const std::string& promql, int64_t at_ms);
  Result<std::vector<Series>> query_range(const std::string& promql, int64_t start_ms, int64_t end_ms, int64_t step_ms);
  int requests() const { return requests_; }
  const std::string& base() const { return base_; }

 private:
  Result<std::vector<Series>> get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& p,
                                  const std::string& promql, size_t max_body);
  std::string base_;
  HttpOptions http_;
  int requests_ = 0;
};

}  // namespace ow::fleet
