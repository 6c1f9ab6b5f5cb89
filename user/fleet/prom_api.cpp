#include "fleet/prom_api.hpp"
#include "util/text.hpp"

#include <event2/http.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace ow::fleet {

std::string url_escape(const std::string& s) {
  std::unique_ptr<char, void (*)(void*)> e(evhttp_uriencode(s.data(), static_cast<ev_ssize_t>(s.size()), 0), std::free);
  return e ? std::string(e.get()) : std::string();
}

std::string build_url(const std::string& base, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  std::string u = b + path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    u += sep + url_escape(k) + "=" + url_escape(v);
    sep = '&';
  }
  return u;
}

std::string prom_time(int64_t ts_ms) {
  int64_t s = ts_ms / 1000, ms = ts_ms % 1000;
  return ms ? fmt::format("{}.{:03}", s, ms) : std::to_string(s);
}

std::string prom_duration(int64_t ms) {
  std::string out;
  int64_t s = ms / 1000, r = ms % 1000;
  if (s) out += std::to_string(s) + "s";
  if (r || out.empty()) out += std::to_string(r) + "ms";
  return out;
}

std::string labels_text(const Labels& l) {
  std::string s = "{";
  for (const auto& [k, v] : l) s += (s.size() > 1 ? ", " : "") + k + "=\"" + v + "\"";
  return s + "}";
}

Result<std::vector<Series>> PromClient::get(const std::string& path,
                                            const std::vector<std::pair<std::string, std::string>>& p,
                                            const std::string& promql, size_t max_body) {
  ++requests_;
  HttpOptions o = http_;
  o.max_body_bytes = std::min(o.max_body_bytes, max_body);
  auto r = http_get(build_url(base_, path, p), o);
  if (!r) return app_error("Prometheus at " + base_ + ": " + r.error().message() + " for " + short_query(promql));
  return parse_answer(r->status, r->body, promql);
}

Result<std::vector<Series>> PromClient::query(const std::string& promql, int64_t at_ms) {
  return get("/api/v1/query", {{"query", promql}, {"time", prom_time(at_ms)}}, promql, kMaxInstantAnswerBytes);
}

Result<std::vector<Series>> PromClient::query_range(const std::string& promql, int64_t start_ms, int64_t end_ms,
                                                    int64_t step_ms) {
  return get("/api/v1/query_range",
             {{"query", promql}, {"start", prom_time(start_ms)}, {"end", prom_time(end_ms)}, {"step", prom_duration(step_ms)}},
             promql, kMaxRangeAnswerBytes);
}

}  // namespace ow::fleet
