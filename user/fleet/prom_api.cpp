#include "fleet/prom_api.hpp"
#include "util/text.hpp"

#include <event2/http.h>
#include <fmt/format.h>

#include <cmath>
#include <regex>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

namespace ow::fleet {
namespace {

using json = nlohmann::json;

// j[k] without the const operator[]'s assertion on a missing key: null instead.
const json& get(const json& j, const char* k) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(k);
  return it == j.end() ? null : *it;
}

std::string short_query(const std::string& q) { return q.size() > 160 ? q.substr(0, 157) + "..." : q; }

Result<double> sample_value(const json& pair, const Labels& l, const std::string& q) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string())
    return app_error("Prometheus answer: malformed sample in " + labels_text(l) + " for " + short_query(q));
  const std::string s = pair[1].get<std::string>();
  // Prometheus writes Go's float text: decimal, an exponent at most, or
  // NaN/+Inf/-Inf. strtod alone also takes hex ("0x10"), leading spaces and
  // "infinity"; none of those is a sample.
  static const std::regex number("-?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf");
  if (s.size() > 64 || !std::regex_match(s, number))
    return app_error("Prometheus answer: value '" + excerpt(s) + "' is not a number in " + labels_text(l));
  char* end = nullptr;
  double v = s == "NaN" ? std::nan("") : s == "+Inf" ? HUGE_VAL : s == "-Inf" ? -HUGE_VAL : std::strtod(s.c_str(), &end);
  if (std::isnan(v) || std::isinf(v))
    return app_error(fmt::format("Prometheus answer: {} value at {} in {} for {}: no figure is made from it", s,
                                 prom_time(static_cast<int64_t>(std::llround(pair[0].get<double>() * 1000))),
                                 labels_text(l), short_query(q)));
  if (v < 0) return app_error("Prometheus answer: negative value " + s + " in " + labels_text(l));
  // Every figure taken from an answer is bytes, a count or a rate; past 2^62
  // none is real, and as bytes it would not fit the uint64 it becomes.
  if (v > 4.611686018427388e18)
    return app_error("Prometheus answer: value " + s + " is out of range in " + labels_text(l) + " for " + short_query(q));
  return v;
}

}  // namespace

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

Result<std::vector<Series>> parse_answer(int http_status, const std::string& body, const std::string& q) {
  // 4xx: Prometheus refused what was asked (a bad selector, metric name or
  // URL prefix), which the caller fixes by changing its flags.
  auto refused = [&](std::string m) {
    Error e = app_error(std::move(m));
    e.usage = http_status >= 400 && http_status < 500;
    return e;
  };
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (http_status != 200) return refused(fmt::format("Prometheus answered HTTP {} for {}", http_status, short_query(q)));
    return app_error("Prometheus answer is not JSON for " + short_query(q));
  }
  if (j.value("status", "") != "success") {
    std::string type = j.value("errorType", ""), err = j.value("error", "");
    return refused(fmt::format("Prometheus: {}{}{} (HTTP {}) for {}", type, type.empty() ? "" : ": ",
                               err.empty() ? "no error text" : err, http_status, short_query(q)));
  }
  const json& data = get(j, "data");
  if (!get(data, "result").is_array())
    return app_error("Prometheus answer has no data.result for " + short_query(q));
  std::string type = data.value("resultType", "");
  if (type != "matrix" && type != "vector")
    return app_error("Prometheus answer: result type '" + type + "' where series were expected, for " + short_query(q));
  std::vector<Series> out;
  for (const auto& r : get(data, "result")) {
    Series s;
    if (!r.is_object()) return app_error("Prometheus answer: a result that is not a series for " + short_query(q));
    const json& metric = get(r, "metric");
    if (metric.is_object())
      for (auto it = metric.begin(); it != metric.end(); ++it)
        if (it.value().is_string()) s.labels[it.key()] = it.value().get<std::string>();
    auto add = [&](const json& pair) -> Status {
      auto v = sample_value(pair, s.labels, q);
      if (!v) return v.error();
      s.points.push_back({static_cast<int64_t>(std::llround(pair[0].get<double>() * 1000)), *v});
      return {};
    };
    if (type == "vector") {
      if (auto st = add(get(r, "value")); !st) return st.error();
    } else {
      if (!get(r, "values").is_array())
        return app_error("Prometheus answer: a matrix series without values for " + short_query(q));
      for (const auto& pair : get(r, "values"))
        if (auto st = add(pair); !st) return st.error();
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Series>> PromClient::get(const std::string& path,
                                            const std::vector<std::pair<std::string, std::string>>& p,
                                            const std::string& promql) {
  ++requests_;
  auto r = http_get(build_url(base_, path, p), http_);
  if (!r) return app_error("Prometheus at " + base_ + ": " + r.error().message() + " for " + short_query(promql));
  return parse_answer(r->status, r->body, promql);
}

Result<std::vector<Series>> PromClient::query(const std::string& promql, int64_t at_ms) {
  return get("/api/v1/query", {{"query", promql}, {"time", prom_time(at_ms)}}, promql);
}

Result<std::vector<Series>> PromClient::query_range(const std::string& promql, int64_t start_ms, int64_t end_ms,
                                                    int64_t step_ms) {
  return get("/api/v1/query_range",
             {{"query", promql}, {"start", prom_time(start_ms)}, {"end", prom_time(end_ms)}, {"step", prom_duration(step_ms)}},
             promql);
}

}  // namespace ow::fleet
