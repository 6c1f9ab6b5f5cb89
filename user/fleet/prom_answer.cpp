// Prometheus's JSON answers (parse_answer, declared in prom_api.hpp), parsed
// straight into Series: a SAX handler builds each series as its samples come,
// so what an answer costs is its Points (16 bytes a sample against about 25 of
// text) and never a DOM of the whole answer, which took about 11 times the
// text. The errors are the DOM parser's, in the same order: the body, then
// "status", then data.result, the result type, and the first bad series.
// Pure: no I/O.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "fleet/prom_api.hpp"
#include "util/text.hpp"

namespace ow::fleet {
namespace {

using json = nlohmann::json;

// Prometheus writes Go's float text: -?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?,
// NaN, +Inf or -Inf. strtod alone also takes hex ("0x10"), leading spaces and
// "infinity"; none of those is a sample. By hand rather than std::regex: an
// answer has millions of samples.
bool go_float_text(std::string_view s) {
  if (s == "NaN" || s == "+Inf" || s == "-Inf") return true;
  size_t i = 0;
  const size_t n = s.size();
  auto digits = [&] {
    size_t b = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i - b;
  };
  if (i < n && s[i] == '-') ++i;
  if (digits() == 0) return false;
  if (i < n && s[i] == '.') {
    ++i;
    digits();
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

// A bad sample, kept until its series ends: its message names the series'
// labels, and "metric" may come after the samples.
struct Fault {
  enum Kind { Malformed, NotNumber, NotFinite, Negative, OutOfRange } kind = Malformed;
  std::string text;  // the value as written (an excerpt when it is not a number)
  double ts = 0;     // seconds, as written
};

// The value of the sample [ts, "text"], or why it is no figure.
std::optional<Fault> sample_value(double ts, const std::string& s, double& v) {
  if (s.size() > 64 || !go_float_text(s)) return Fault{Fault::NotNumber, excerpt(s), ts};
  v = s == "NaN" ? std::nan("") : s == "+Inf" ? HUGE_VAL : s == "-Inf" ? -HUGE_VAL : std::strtod(s.c_str(), nullptr);
  if (std::isnan(v) || std::isinf(v)) return Fault{Fault::NotFinite, s, ts};
  if (v < 0) return Fault{Fault::Negative, s, ts};
  // Every figure taken from an answer is bytes, a count or a rate; past 2^62
  // none is real, and as bytes it would not fit the uint64 it becomes.
  if (v > 4.611686018427388e18) return Fault{Fault::OutOfRange, s, ts};
  return std::nullopt;
}

int64_t to_ms(double ts) { return static_cast<int64_t>(std::llround(ts * 1000)); }

Error fault_error(const Fault& f, const Labels& l, const std::string& q) {
  switch (f.kind) {
    case Fault::Malformed:
      return app_error("Prometheus answer: malformed sample in " + labels_text(l) + " for " + short_query(q));
    case Fault::NotNumber:
      return app_error("Prometheus answer: value '" + f.text + "' is not a number in " + labels_text(l));
    case Fault::NotFinite:
      return app_error(fmt::format("Prometheus answer: {} value at {} in {} for {}: no figure is made from it", f.text,
                                   prom_time(to_ms(f.ts)), labels_text(l), short_query(q)));
    case Fault::Negative:
      return app_error("Prometheus answer: negative value " + f.text + " in " + labels_text(l));
    case Fault::OutOfRange:
      return app_error("Prometheus answer: value " + f.text + " is out of range in " + labels_text(l) + " for " +
                       short_query(q));
  }
  return app_error("Prometheus answer: bad sample");
}

// One element of data.result as it was read; which of "value" (vector) and
// "values" (matrix) counts is known from resultType, which may come after it.
struct RawSeries {
  bool object = true;  // false: an element that is not a series at all
  Labels labels;
  bool value_seen = false;
  std::optional<Point> value;
  std::optional<Fault> value_fault;
  bool values_array = false;
  std::vector<Point> values;  // stops growing at the first fault
  std::optional<Fault> values_fault;
};

enum class Type { Unknown, Vector, Matrix };

Type type_of(const std::string& t) {
  return t == "vector" ? Type::Vector : t == "matrix" ? Type::Matrix : Type::Unknown;
}

// Why the series is refused as an element of a result of type t, if it is.
std::optional<Error> series_error(const RawSeries& r, Type t, const std::string& q) {
  if (!r.object) return app_error("Prometheus answer: a result that is not a series for " + short_query(q));
  if (t == Type::Vector) {
    if (r.value_fault) return fault_error(*r.value_fault, r.labels, q);
    if (!r.value) return fault_error(Fault{}, r.labels, q);
  } else {
    if (!r.values_array) return app_error("Prometheus answer: a matrix series without values for " + short_query(q));
    if (r.values_fault) return fault_error(*r.values_fault, r.labels, q);
  }
  return std::nullopt;
}

// Where a value sits in the answer. Containers nowhere below are skipped.
enum class Ctx { Skip, Top, Data, Result, Series, Metric, Values, Pair };

class AnswerHandler {
 public:
  explicit AnswerHandler(const std::string& q) : q_(q) {}

  bool null() { return scalar(Kind::Other); }
  bool boolean(bool) { return scalar(Kind::Other); }
  bool number_integer(json::number_integer_t v) { return number(static_cast<double>(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return number(static_cast<double>(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return number(v); }
  bool string(std::string& s) {
    str_ = &s;
    return scalar(Kind::String);
  }
  bool binary(json::binary_t&) { return scalar(Kind::Other); }
  bool start_object(std::size_t) { return enter(Kind::Object); }
  bool key(std::string& k) {
    if (!skipped_) stack_.back().key = k;
    return true;
  }
  bool end_object() { return end(); }
  bool start_array(std::size_t) { return enter(Kind::Array); }
  bool end_array() { return end(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  // The answer once the whole body parsed as JSON.
  Result<std::vector<Series>> finish(int http_status) {
    auto refused = [&](std::string m) {
      Error e = app_error(std::move(m));
      e.usage = http_status >= 400 && http_status < 500;
      return e;
    };
    if (!root_object_) {
      if (http_status != 200) return refused(fmt::format("Prometheus answered HTTP {} for {}", http_status, short_query(q_)));
      return app_error("Prometheus answer is not JSON for " + short_query(q_));
    }
    if (status_ != "success")
      return refused(fmt::format("Prometheus: {}{}{} (HTTP {}) for {}", error_type_, error_type_.empty() ? "" : ": ",
                                 error_.empty() ? "no error text" : error_, http_status, short_query(q_)));
    if (!result_array_) return app_error("Prometheus answer has no data.result for " + short_query(q_));
    Type t = type_of(result_type_);
    if (t == Type::Unknown)
      return app_error("Prometheus answer: result type '" + result_type_ + "' where series were expected, for " +
                       short_query(q_));
    std::vector<Series> out;
    out.reserve(raw_.size());
    for (auto& r : raw_) {
      if (auto e = series_error(r, t, q_)) return *e;
      Series s{std::move(r.labels), {}};
      if (t == Type::Vector)
        s.points.push_back(*r.value);
      else
        s.points = std::move(r.values);
      out.push_back(std::move(s));
    }
    return out;
  }

  // Whether the body is a JSON object at its top (else it is "not JSON").
  void parse_failed() { root_object_ = false; }

 private:
  enum class Kind { Object, Array, String, Number, Other };
  struct Frame {
    Ctx ctx;
    std::string key;  // objects: the key of the value being read
    size_t n = 0;     // arrays: the elements seen
  };

  bool number(double v) {
    num_ = v;
    return scalar(Kind::Number);
  }
  bool scalar(Kind k) {
    if (!skipped_) place(k);
    return true;
  }
  // Inside a skipped container only the depth is counted: a body of nested
  // brackets costs nothing per level.
  bool enter(Kind k) {
    if (skipped_ || (!stack_.empty() && stack_.back().ctx == Ctx::Skip))
      ++skipped_;
    else
      stack_.push_back({place(k)});
    return true;
  }

  // A value begins (a scalar, or a container that is pushed with the Ctx
  // returned): what it means depends on where it is.
  Ctx place(Kind k) {
    if (stack_.empty()) {
      root_object_ = k == Kind::Object;
      return root_object_ ? Ctx::Top : Ctx::Skip;
    }
    Frame& p = stack_.back();
    const size_t idx = p.n++;
    const std::string& key = p.key;
    auto text = [&] { return k == Kind::String ? *str_ : std::string(); };
    switch (p.ctx) {
      case Ctx::Skip:
        return Ctx::Skip;
      case Ctx::Top:
        if (key == "status") status_ = text();
        else if (key == "errorType") error_type_ = text();
        else if (key == "error") error_ = text();
        else if (key == "data") {  // a repeated key: the last one counts, as in a DOM
          result_type_.clear();
          reset_result(false);
          return k == Kind::Object ? Ctx::Data : Ctx::Skip;
        }
        return Ctx::Skip;
      case Ctx::Data:
        if (key == "resultType") result_type_ = text();
        else if (key == "result") {
          reset_result(k == Kind::Array);
          return result_array_ ? Ctx::Result : Ctx::Skip;
        }
        return Ctx::Skip;
      case Ctx::Result:
        if (stop_) return Ctx::Skip;
        if (k == Kind::Object) {
          cur_ = RawSeries{};
          return Ctx::Series;
        }
        raw_.push_back(RawSeries{false});  // an error whatever the result type
        stop_ = true;
        return Ctx::Skip;
      case Ctx::Series:
        if (key == "metric") {
          cur_.labels.clear();
          return k == Kind::Object ? Ctx::Metric : Ctx::Skip;
        }
        if (key == "value") {
          cur_.value_seen = true;
          cur_.value.reset();
          cur_.value_fault.reset();
          if (k == Kind::Array) return start_pair(true);
          cur_.value_fault = Fault{};
        } else if (key == "values") {
          cur_.values.clear();
          cur_.values_fault.reset();
          cur_.values_array = k == Kind::Array;
          return cur_.values_array ? Ctx::Values : Ctx::Skip;
        }
        return Ctx::Skip;
      case Ctx::Metric:
        if (k == Kind::String)
          cur_.labels[key] = *str_;
        else
          cur_.labels.erase(key);  // only string values are labels
        return Ctx::Skip;
      case Ctx::Values:
        if (cur_.values_fault) return Ctx::Skip;  // the first fault is the error
        if (k == Kind::Array) return start_pair(false);
        cur_.values_fault = Fault{};
        return Ctx::Skip;
      case Ctx::Pair:
        if (idx == 0 && k == Kind::Number)
          pair_ts_ = num_;
        else if (idx == 1 && k == Kind::String)
          pair_text_.assign(*str_);  // assign: keeps its capacity, one allocation for all samples
        else
          pair_bad_ = true;
        return Ctx::Skip;
    }
    return Ctx::Skip;
  }

  Ctx start_pair(bool instant) {
    pair_instant_ = instant;
    pair_bad_ = false;
    return Ctx::Pair;
  }

  void reset_result(bool array) {
    raw_.clear();
    stop_ = false;
    result_array_ = array;
  }

  bool end() {
    if (skipped_) {
      --skipped_;
      return true;
    }
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.ctx == Ctx::Pair) end_pair(f.n);
    else if (f.ctx == Ctx::Series) end_series();
    return true;
  }

  void end_pair(size_t n) {
    std::optional<Fault> fault;
    double v = 0;
    if (pair_bad_ || n != 2)
      fault = Fault{};
    else
      fault = sample_value(pair_ts_, pair_text_, v);
    if (pair_instant_) {
      if (fault) cur_.value_fault = std::move(fault);
      else cur_.value = Point{to_ms(pair_ts_), v};
    } else if (fault) {
      cur_.values_fault = std::move(fault);
      cur_.values = {};  // the series is an error: its points are not kept
    } else {
      cur_.values.push_back({to_ms(pair_ts_), v});
    }
  }

  void end_series() {
    cur_.values.shrink_to_fit();  // the slack of its growth, up to half of it
    // Once the type is known, a bad series is the answer's error: the series
    // after it are read no more.
    if (Type t = type_of(result_type_); t != Type::Unknown && series_error(cur_, t, q_)) stop_ = true;
    raw_.push_back(std::move(cur_));
  }

  const std::string& q_;
  std::vector<Frame> stack_;  // at most the answer's 7 levels that matter
  size_t skipped_ = 0;        // containers open inside a skipped one
  std::string* str_ = nullptr;  // the string value being placed
  double num_ = 0;              // the number value being placed
  bool root_object_ = false;
  std::string status_, error_type_, error_, result_type_;
  bool result_array_ = false;
  std::vector<RawSeries> raw_;
  bool stop_ = false;
  RawSeries cur_;
  bool pair_instant_ = false, pair_bad_ = false;
  double pair_ts_ = 0;
  std::string pair_text_;
};

}  // namespace

std::string short_query(const std::string& q) { return q.size() > 160 ? q.substr(0, 157) + "..." : q; }

Result<std::vector<Series>> parse_answer(int http_status, const std::string& body, const std::string& q) {
  AnswerHandler h(q);
  if (!json::sax_parse(body, &h)) h.parse_failed();
  return h.finish(http_status);
}

}  // namespace ow::fleet
